#pragma once
#include <string>
#include <vector>

namespace moeplan {

// Edit distance (optimal string alignment: transpositions cost 1), for "did you mean".
int edit_distance(const std::string& a, const std::string& b);

// The closest candidate within a small edit distance, or "" when none is close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// "unknown command 'plam'; did you mean 'plan'?" (or without the suggestion).
std::string unknown_name_message(const std::string& kind, const std::string& word,
                                 const std::vector<std::string>& candidates);

}  // namespace moeplan
