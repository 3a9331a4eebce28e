#include "util/json_text.h"

#include "util/error.h"
#include "util/text.h"

namespace moeplan {
namespace {

// nlohmann's message without its "[json.exception.parse_error.101] parse error " prefix and
// without the "; last read: '...'" tail, which repeats the input (possibly all of it).
std::string syntax_error_description(const nlohmann::json::parse_error& e) {
  std::string what = e.what();
  const std::string marker = "parse error ";
  const auto start = what.find(marker);
  if (start == std::string::npos) return "syntax error at byte " + std::to_string(e.byte);
  what = what.substr(start + marker.size());
  const auto echo = what.find("; last read:");
  if (echo != std::string::npos) what.resize(echo);
  return what;
}

}  // namespace

void check_json_depth(const std::string& text, const std::string& where) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        fail(where, " is nested deeper than ", kMaxJsonDepth,
             " levels of arrays and objects (at byte ", i, ")");
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

nlohmann::json parse_json_text(const std::string& text, const std::string& where) {
  check_json_depth(text, where);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail(where, " is not valid JSON: ", syntax_error_description(e));
  } catch (const nlohmann::json::exception&) {  // out_of_range: a number past double's range
    fail(where, " is not valid JSON: a number is out of range");
  }
}

std::string json_value_excerpt(const nlohmann::json& value) {
  // `replace`: a string that is not UTF-8 is shown, not a second error.
  return excerpt(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace moeplan
