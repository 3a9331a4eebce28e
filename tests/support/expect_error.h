#pragma once
// The message of the moeplan::Error that `f` throws, or "" when it throws none.
#include <functional>
#include <string>

#include "util/error.h"

namespace moeplan::testing {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace moeplan::testing
