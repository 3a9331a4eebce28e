#pragma once
// JSON for error messages: every reader of a JSON file says what is wrong with it in one line,
// naming the file and the place, without nlohmann's exception text and without echoing the
// input at length.
#include <nlohmann/json.hpp>
#include <string>

namespace moeplan {

// Parses `text`; on a syntax error throws Error
// "WHERE is not valid JSON: at line 3, column 7: syntax error while parsing object - ...".
nlohmann::json parse_json_text(const std::string& text, const std::string& where);

// A value as an error message shows it ("got ..."): its JSON text, cut to a readable length.
std::string json_value_excerpt(const nlohmann::json& value);

}  // namespace moeplan
