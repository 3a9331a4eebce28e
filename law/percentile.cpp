#include "law/percentile.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace moeplan::law {

double percentile(std::vector<double> values, double q) {
  if (values.empty()) fail("percentile of no values");
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

}  // namespace moeplan::law
