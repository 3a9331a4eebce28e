#include "util/format.h"

#include <cstdio>

namespace moeplan {

std::string format_number(const char* format, double x) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, x);
  return buffer;
}

}  // namespace moeplan
