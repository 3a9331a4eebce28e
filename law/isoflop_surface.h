#pragma once
// IsoFLOP surfaces (Eq. 8, App. B): at one budget, a polynomial in N̂ = log N, Ŝ = −log(1−S)
// and their product,
//   L(N, S) = Σ_{i=1..α1} a_i N̂^i + Σ_{i=1..α2} b_i Ŝ^i + Σ_{i=1..α3} c_i (N̂Ŝ)^i + d,
// fitted by least squares, with (α1, α2, α3) ∈ {0..4}³ chosen by k-fold cross-validation.
// From a surface: S*(N) (Fig. 4), N*(S) and N_a*(S) (Figs. 2, 3, 9).
#include <optional>
#include <vector>

#include "law/fit_objective.h"

namespace moeplan::law {

struct SurfaceDegrees {
  int params = 0, sparsity = 0, interaction = 0;  // α1, α2, α3
};

struct IsoflopSurface {
  double budget_flops = 0;
  SurfaceDegrees degrees;
  std::vector<double> coefficients;  // d, a_1..a_α1, b_1..b_α2, c_1..c_α3
  std::size_t runs = 0;
  int folds = 0;
  double cv_mse = 0;     // mean squared error on held-out folds, nats²
  double train_mse = 0;  // on all runs of the budget
  Range total_params, sparsity;
  double predict(double total_params, double sparsity) const;
};

// Features of one run for the degrees: 1, N̂..N̂^α1, Ŝ..Ŝ^α2, (N̂Ŝ)..(N̂Ŝ)^α3.
std::vector<double> surface_features(double total_params, double sparsity, const SurfaceDegrees& degrees);

// Least squares (Eigen, column-pivoted QR) with given degrees.
IsoflopSurface fit_surface_with_degrees(const std::vector<FitRun>& runs, const SurfaceDegrees& degrees);
// Degrees by k-fold CV (k = min(folds, runs), runs assigned to folds round-robin); a
// combination with more coefficients than a training fold has runs is skipped; ties go to fewer
// coefficients. Throws Error when fewer than 2 runs.
IsoflopSurface fit_isoflop_surface(const std::vector<FitRun>& runs, int max_degree = 4, int folds = 5);

// Runs grouped by budget: the budget column when every run has it, else 6·N_a·D rounded to 2
// significant digits; throws Error when neither is available.
std::vector<std::pair<double, std::vector<FitRun>>> group_by_budget(const std::vector<FitRun>& runs);

struct SliceOptimum {
  double at = 0;     // the fixed value (N for S*(N), S for N*(S))
  double optimum = 0;  // S* or N*
  double loss = 0;
  std::optional<double> active_params;  // N_a at N*(S), when the runs give active params
  bool at_edge = false;  // the optimum is at the edge of the runs' range: not bracketed
};

// S*(N): argmin over S in the runs' sparsity range, for each N.
std::vector<SliceOptimum> optimal_sparsity(const IsoflopSurface& surface, const std::vector<double>& params);
// N*(S): argmin over N in the runs' range, for each S; N_a*(S) interpolated (log-log, in N)
// from the runs at that sparsity when they carry active params.
std::vector<SliceOptimum> optimal_params(const IsoflopSurface& surface, const std::vector<FitRun>& runs,
                                         const std::vector<double>& sparsities);

}  // namespace moeplan::law
