#pragma once
// Linear-interpolated percentile, as numpy's default: the bootstrap intervals of `law fit` and of
// predicted losses.
#include <vector>

namespace moeplan::law {

// The q-quantile (0 <= q <= 1) of `values` (any order); throws moeplan::Error when empty.
double percentile(std::vector<double> values, double q);

}  // namespace moeplan::law
