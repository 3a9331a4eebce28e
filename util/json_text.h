#pragma once
// JSON for error messages: every reader of a JSON file says what is wrong with it in one line,
// naming the file and the place, without nlohmann's exception text and without echoing the
// input at length. It is also the one place JSON input is parsed, under the limits below.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace moeplan {

// The deepest nesting of arrays and objects any moeplan JSON input may have. Real inputs nest
// 2-4 deep (a Hugging Face config's text_config.rope_scaling); a hostile file nested a million
// deep parses (nlohmann's parser is iterative) but crashes whatever prints a value of it
// (dump() recurses) and costs ~180 bytes per level.
inline constexpr std::size_t kMaxJsonDepth = 64;

// The largest JSON file moeplan reads (law, plan, ARCH.json, config.json, manifests, sweep and
// verify records; read with util/file_limits.h): all are a few KiB; a larger file is not one of
// them.
inline constexpr std::uintmax_t kMaxJsonFileBytes = std::uintmax_t{64} << 20;

// Throws Error "WHERE is nested deeper than 64 levels of arrays and objects (at byte N)" when
// `text` nests
// past kMaxJsonDepth; one pass over the bytes, before any tree is built. Brackets inside
// strings do not count; `text` need not be valid JSON.
void check_json_depth(const std::string& text, const std::string& where);

// Parses `text` (after check_json_depth); on a syntax error throws Error
// "WHERE is not valid JSON: at line 3, column 7: syntax error while parsing object - ...".
nlohmann::json parse_json_text(const std::string& text, const std::string& where);

// A value as an error message shows it ("got ..."): its JSON text, cut to a readable length.
std::string json_value_excerpt(const nlohmann::json& value);

}  // namespace moeplan
