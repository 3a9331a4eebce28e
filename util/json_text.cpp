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

nlohmann::json parse_json_text(const std::string& text, const std::string& where) {
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
