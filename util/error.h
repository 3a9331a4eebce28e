#pragma once
// moeplan's one error type. Library code throws it with a one-line, user-facing message;
// only `main` catches it, prints "moeplan: error: <message>" and exits non-zero.
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace moeplan {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// fail("bad budget ", x, " FLOPs") builds the message from its parts and throws Error.
template <typename... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  std::ostringstream message;
  (message << ... << std::forward<Parts>(parts));
  throw Error(message.str());
}

}  // namespace moeplan
