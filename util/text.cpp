#include "util/text.h"

#include <algorithm>

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
