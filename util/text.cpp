#include "util/text.h"

#include <algorithm>
#include <numeric>

namespace moeplan {

int edit_distance(const std::string& a, const std::string& b) {
  std::vector<int> previous(b.size() + 1), current(b.size() + 1);
  std::iota(previous.begin(), previous.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = static_cast<int>(i);
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  int best_distance = 1 << 30;
  for (const auto& c : candidates) {
    const int d = edit_distance(word, c);
    if (d < best_distance) best_distance = d, best = c;
  }
  // Accept up to a third of the word's length in edits (at least 1, at most 3).
  const int allowed = std::clamp(static_cast<int>(word.size()) / 3, 1, 3);
  return best_distance <= allowed ? best : std::string();
}

std::string unknown_name_message(const std::string& kind, const std::string& word,
                                 const std::vector<std::string>& candidates) {
  std::string message = "unknown " + kind + " '" + word + "'";
  const std::string suggestion = closest_match(word, candidates);
  if (!suggestion.empty()) return message + "; did you mean '" + suggestion + "'?";
  std::string list;
  for (const auto& c : candidates) list += (list.empty() ? "" : ", ") + c;
  return message + " (known: " + list + ")";
}

}  // namespace moeplan
