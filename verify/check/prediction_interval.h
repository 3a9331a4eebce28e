#pragma once
// The interval `verify` puts around a predicted loss, from three measured parts (docs/math.md,
// "Verify: interval and verdict"):
//   bootstrap  the law's percentile interval of the prediction over its bootstrap refits;
//   backtest   the relative error of a refit without the largest swept budget on that budget,
//              scaled linearly to the verify run's extrapolation distance in log C
//              (OLMo's ladder missed by many times its in-sample error: a bootstrap alone is too
//              narrow for an extrapolation);
//   noise      the run-to-run standard deviation of the sweep's replicate seeds, times the
//              normal quantile of the interval's level.
// Each side's half-width is the quadrature sum of the parts (independent errors); the result
// always contains the bootstrap interval.
#include <optional>
#include <string>

#include "law/scaling_law.h"

namespace moeplan::verify {

inline constexpr double kIntervalLevel = 0.9;  // as `law fit`'s bootstrap intervals (5th–95th)

// z of the two-sided normal interval at kIntervalLevel (Φ⁻¹(0.95)).
double interval_z();

struct BacktestPart {
  double relative_error = 0;         // mean |L̂ − L| / L on the held-out budget's runs
  double held_out_budget_flops = 0;  // the largest swept budget, refitted without
  double fit_max_budget_flops = 0;   // the largest budget the refit saw
  std::size_t held_out_runs = 0;
  // relative_error · ln(C / held_out) / ln(held_out / fit_max): the expected relative error at
  // the verify budget C.
  double scaled_relative_error = 0;
};

struct NoisePart {
  double std_loss = 0;         // pooled standard deviation of val_loss over replicate groups, nats
  std::size_t groups = 0;      // configurations run with more than one seed
  std::size_t replicates = 0;  // rows in those groups
};

struct IntervalParts {
  double predicted_loss = 0;
  law::Range bootstrap;
  std::optional<BacktestPart> backtest;
  std::string backtest_missing;  // why there is no backtest (when none)
  std::optional<NoisePart> noise;
  std::string noise_missing;  // why there is no noise estimate (when none)
};

// The backtest's relative error scaled to the verify budget (see BacktestPart).
double scale_backtest_error(double relative_error, double fit_max_budget_flops,
                            double held_out_budget_flops, double verify_budget_flops);

// The combined interval (see the header comment): for each side
//   w = √(w_bootstrap² + (r_scaled·L̂)² + (z·σ)²),  w_bootstrap = max(0, distance of the
//   bootstrap bound from L̂); low = min(L̂ − w_low, bootstrap.lo), high = max(L̂ + w_high,
//   bootstrap.hi).
law::Range combined_interval(const IntervalParts& parts);

}  // namespace moeplan::verify
