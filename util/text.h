#pragma once
#include <cstddef>
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

// How much of a user's input an error message quotes.
inline constexpr std::size_t kExcerptChars = 60;

// `text` as an error message quotes it: in single quotes, control bytes and quotes escaped
// (\n, \t, \', \xNN), and, when longer than `max_chars`, cut at a UTF-8 character boundary
// with its size: 'abc…' (20971520 bytes). A 20 MB CSV field then costs the message 60 bytes.
std::string quoted_excerpt(const std::string& text, std::size_t max_chars = kExcerptChars);
// The same without the quotes: abc… (20971520 bytes).
std::string excerpt(const std::string& text, std::size_t max_chars = kExcerptChars);
// `message` (a library's error text, such as Boost.Program_options') with every occurrence of
// an input longer than kExcerptChars replaced by its excerpt.
std::string cut_long_inputs(std::string message, const std::vector<std::string>& inputs);

}  // namespace moeplan
