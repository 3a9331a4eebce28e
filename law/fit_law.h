#pragma once
// The whole of `law fit` as math: split off the held-out runs, multi-start L-BFGS over the
// start grid, metrics on both sets, bootstrap refits, the fitted domain, and the warnings that
// say when the fit is not to be trusted (coefficients at bounds, wide bootstrap intervals).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "law/fit_law_fixed.h"
#include "law/fit_lbfgs.h"
#include "law/fit_metrics.h"
#include "law/fit_objective.h"
#include "law/scaling_law.h"

namespace moeplan::law {

// Which runs are held out for validation.
enum class Holdout {
  kNone,
  kMaxSparsity,  // the runs at the highest sparsity (the paper held out S = 0.98)
  kMaxBudget,    // the runs at the highest budget C (extrapolation in compute)
  kMaxParams,    // the runs at the largest N
};
std::string holdout_name(Holdout holdout);  // "none", "max-sparsity", ...
std::optional<Holdout> holdout_from_name(const std::string& name);
std::vector<std::string> holdout_names();
// The default: max-sparsity for Eq. 6, none for the dense form.
Holdout default_holdout(LawForm form);

struct FitSettings {
  LawForm form = LawForm::kSparse;
  Holdout holdout = Holdout::kMaxSparsity;
  std::vector<Theta> starts;  // empty: every start of paper_grid(form) (fixed axes collapsed)
  FixedCoefficients fixed;    // held at their values in the fit and every bootstrap refit
  MultiStartOptions optimiser;
  int bootstrap_samples = 0;  // K refits on runs resampled with replacement (paper: 100)
  std::uint64_t bootstrap_seed = 1;
  double interval_level = 0.9;  // percentile interval (5th–95th)
};

// The percentile interval of the bootstrap refits' estimates of one coefficient (the
// (1 − level)/2 and (1 + level)/2 quantiles over the refits). It is not centred on `value`,
// the full fit's estimate: when the refits' optima lie mostly on one side (a flat valley),
// `value` can lie outside it, and fit_law warns.
struct CoefficientInterval {
  std::string name;  // "a", "alpha", ...
  double value = 0, lo = 0, hi = 0;
  bool fixed = false;  // held by --fix: value = lo = hi
  bool outside() const { return !fixed && (value < lo || value > hi); }
};

struct FitResult {
  ScalingLaw law;  // coefficients, domain, bootstrap samples; name and description left to caller
  Theta theta{};
  double objective = 0;       // after the leaders' polish (law/fit_lbfgs.h)
  double grid_objective = 0;  // the best over the starts, before the polish
  std::size_t starts = 0;
  std::size_t total_iterations = 0;
  std::size_t failed_starts = 0;
  std::vector<FitRun> fit_runs, held_out_runs;
  FitMetrics fit_metrics, held_out_metrics;
  std::vector<CoefficientInterval> intervals;  // when bootstrapped
  double interval_level = 0.9;                 // the settings' level
  FixedCoefficients fixed;                     // the settings' fixed coefficients
  std::vector<std::string> warnings;
};

// Splits `runs` by `holdout`; throws Error when the held-out set would be everything.
void split_runs(const std::vector<FitRun>& runs, Holdout holdout, std::vector<FitRun>& fit,
                std::vector<FitRun>& held_out);

// Throws moeplan::Error when the fit set has fewer runs than free coefficients + 1.
FitResult fit_law(const std::vector<FitRun>& runs, const FitSettings& settings);

// The percentile intervals of result.law.bootstrap's coefficients into result.intervals (fixed
// ones: the fixed value), with warnings for a wide interval and for an estimate outside its own
// interval. fit_law calls it after the refits.
void add_bootstrap_intervals(const FitSettings& settings, FitResult& result);

// The coefficients in report order, with names: a, alpha, b, beta, (c, lambda, d, delta, gamma,) e.
std::vector<std::pair<std::string, double>> named_coefficients(const Coefficients& k, LawForm form);

}  // namespace moeplan::law
