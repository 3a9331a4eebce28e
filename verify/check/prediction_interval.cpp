#include "verify/check/prediction_interval.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace moeplan::verify {

double interval_z() {
  // Φ⁻¹((1 + level) / 2) for level 0.9; a level change must update this constant.
  static_assert(kIntervalLevel == 0.9, "interval_z() holds the 0.9 level's quantile");
  return 1.6448536269514722;
}

double scale_backtest_error(double relative_error, double fit_max_budget_flops,
                            double held_out_budget_flops, double verify_budget_flops) {
  if (!(fit_max_budget_flops > 0 && held_out_budget_flops > fit_max_budget_flops))
    fail("backtest budgets must increase: refit up to ", fit_max_budget_flops, " FLOPs, held out ",
         held_out_budget_flops, " FLOPs");
  if (!(verify_budget_flops > held_out_budget_flops))
    fail("the verify budget ", verify_budget_flops, " FLOPs must exceed the largest swept budget ",
         held_out_budget_flops, " FLOPs");
  const double backtest_distance = std::log(held_out_budget_flops / fit_max_budget_flops);
  const double verify_distance = std::log(verify_budget_flops / held_out_budget_flops);
  return relative_error * verify_distance / backtest_distance;
}

law::Range combined_interval(const IntervalParts& parts) {
  const double p = parts.predicted_loss;
  double shared = 0;  // the parts that widen both sides alike, squared
  if (parts.backtest) shared += std::pow(parts.backtest->scaled_relative_error * p, 2);
  if (parts.noise) shared += std::pow(interval_z() * parts.noise->std_loss, 2);
  const double low_bootstrap = std::max(0.0, p - parts.bootstrap.lo);
  const double high_bootstrap = std::max(0.0, parts.bootstrap.hi - p);
  const double low = p - std::sqrt(low_bootstrap * low_bootstrap + shared);
  const double high = p + std::sqrt(high_bootstrap * high_bootstrap + shared);
  return {std::min(low, parts.bootstrap.lo), std::max(high, parts.bootstrap.hi)};
}

}  // namespace moeplan::verify
