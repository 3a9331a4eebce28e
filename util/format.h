#pragma once
#include <string>

namespace moeplan {

// One number through a printf format ("%.4f", "%.3g"): report lines.
std::string format_number(const char* format, double x);

}  // namespace moeplan
