#include "util/text.h"

#include <algorithm>
#include <cstdio>

namespace moeplan {

int edit_distance(const std::string& a, const std::string& b) {
  // Optimal string alignment: insertions, deletions, substitutions and adjacent transpositions
  // ("shwo" -> "show") each cost 1.
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> dist(n + 1, std::vector<int>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) dist[i][0] = static_cast<int>(i);
  for (std::size_t j = 0; j <= m; ++j) dist[0][j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      dist[i][j] = std::min({dist[i - 1][j] + 1, dist[i][j - 1] + 1, dist[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        dist[i][j] = std::min(dist[i][j], dist[i - 2][j - 2] + 1);
    }
  }
  return dist[n][m];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  int best_distance = 1 << 30;
  for (const auto& c : candidates) {
    // The distance is at least the length difference: skip the quadratic table (a 20 MB word
    // would need gigabytes) when that alone is beyond any allowed distance.
    if (word.size() > c.size() + 3 || c.size() > word.size() + 3) continue;
    const int d = edit_distance(word, c);
    if (d < best_distance) best_distance = d, best = c;
  }
  // Accept up to a third of the word's length in edits (at least 1, at most 3).
  const int allowed = std::clamp(static_cast<int>(word.size()) / 3, 1, 3);
  return best_distance <= allowed ? best : std::string();
}

std::string unknown_name_message(const std::string& kind, const std::string& word,
                                 const std::vector<std::string>& candidates) {
  std::string message = "unknown " + kind + " " + quoted_excerpt(word);
  const std::string suggestion = closest_match(word, candidates);
  if (!suggestion.empty()) return message + "; did you mean '" + suggestion + "'?";
  std::string list;
  for (const auto& c : candidates) list += (list.empty() ? "" : ", ") + c;
  return message + " (known: " + list + ")";
}

namespace {

// `text` escaped, its first `max_chars` bytes or fewer (cut at a UTF-8 character boundary);
// sets `cut` when something was left off.
std::string escaped_prefix(const std::string& text, std::size_t max_chars, bool& cut) {
  std::size_t end = std::min(text.size(), max_chars);
  // Never split a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
  if (end < text.size())
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  cut = end < text.size();
  std::string out;
  for (std::size_t i = 0; i < end; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\n')
      out += "\\n";
    else if (byte == '\t')
      out += "\\t";
    else if (byte == '\r')
      out += "\\r";
    else if (byte == '\'' || byte == '\\')
      out += std::string("\\") + static_cast<char>(byte);
    else if (byte < 0x20 || byte == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", byte);
      out += hex;
    } else {
      out += static_cast<char>(byte);
    }
  }
  return out;
}

std::string size_note(const std::string& text) {
  return " (" + std::to_string(text.size()) + " bytes)";
}

}  // namespace

std::string quoted_excerpt(const std::string& text, std::size_t max_chars) {
  bool cut = false;
  const std::string prefix = escaped_prefix(text, max_chars, cut);
  return cut ? "'" + prefix + "…'" + size_note(text) : "'" + prefix + "'";
}

std::string excerpt(const std::string& text, std::size_t max_chars) {
  bool cut = false;
  const std::string prefix = escaped_prefix(text, max_chars, cut);
  return cut ? prefix + "…" + size_note(text) : prefix;
}

std::string cut_long_inputs(std::string message, const std::vector<std::string>& inputs) {
  for (const auto& input : inputs) {
    if (input.size() <= kExcerptChars) continue;
    const std::string short_form = excerpt(input);
    for (auto at = message.find(input); at != std::string::npos;
         at = message.find(input, at + short_form.size()))
      message.replace(at, input.size(), short_form);
  }
  return message;
}

}  // namespace moeplan
