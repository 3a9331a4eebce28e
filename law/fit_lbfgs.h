#pragma once
// Multi-start L-BFGS (dlib, box-constrained) over a start grid: every start is minimised and
// the best objective wins (§5, App. E). The few best distinct optima are then polished with a
// much tighter stopping rule, because the law's valleys are flat (c·(1−S)^−λ and e trade off
// when λ ≈ 0) and the grid's stopping rule ends in them early.
#include <cstddef>
#include <functional>
#include <vector>

#include "law/fit_grid.h"
#include "law/fit_objective.h"

namespace moeplan::law {

// When one L-BFGS run stops: after an iteration with f_k − f_{k+1} ≤ function_tolerance ·
// max(|f_k|, |f_{k+1}|, function_scale_floor), or at a point whose projected gradient has
// ∞-norm ≤ gradient_tolerance, or after max_iterations. The defaults are those of
// scipy.optimize.minimize(method="L-BFGS-B") (ftol 2.22e-9, gtol 1e-5, maxiter 15000, maxcor
// 10): what a scipy fit of this objective, such as SPEC's 37 ms/start reference, stops by.
struct LocalFitOptions {
  double function_tolerance = 2.220446049250313e-09;
  double function_scale_floor = 1.0;  // scipy's max(…, 1); 0 makes the test purely relative
  double gradient_tolerance = 1e-5;   // 0 turns the gradient test off
  int max_iterations = 15000;
  int lbfgs_memory = 10;  // 1–63
  // true: dlib's own lbfgs_search_strategy, the reference the fixed-size copy is tested against
  bool dlib_search_strategy = false;
};

// The polish of the best distinct optima: relative decrease ≤ 1e-10, no gradient test.
LocalFitOptions polish_options();

struct LocalFit {
  Theta theta{};
  double objective = 0;
  int iterations = 0;
};

// Plain dlib L-BFGS (find_min_box_constrained) from one start.
LocalFit minimise_from(const FitObjective& objective, const Theta& start, const Bounds& bounds,
                       const LocalFitOptions& options = {});

struct MultiStartOptions {
  LocalFitOptions local;                      // every start
  LocalFitOptions polish = polish_options();  // then the leaders, from where they stopped
  unsigned threads = 2;
  // Called now and then from the calling thread with the starts finished so far and the total
  // (a CLI shows it; the result does not depend on it). Empty: no calls.
  std::function<void(std::size_t done, std::size_t total)> progress;
};

struct MultiStartFit {
  Theta best{};
  double objective = 0;       // after the polish
  double grid_objective = 0;  // the best over the starts, before the polish
  std::size_t starts = 0;
  std::size_t total_iterations = 0;
  std::size_t failed_starts = 0;  // the objective turned non-finite (should not happen in bounds)
  std::size_t polish_iterations = 0;
  // The best few distinct local optima (max-norm distance in θ > 1e-3), best first, as
  // polished: the starts of the bootstrap refits.
  std::vector<LocalFit> leaders;
};

inline constexpr std::size_t kLeaderCount = 8;

// The driver: every start, in contiguous chunks over threads. Each start runs minimise_from;
// the leaders are polished (spread over the threads), and the best objective wins, ties going
// to the earlier start or leader, so the best θ equals fit_exhaustive's.
MultiStartFit fit_multistart(const FitObjective& objective, const std::vector<Theta>& starts,
                             const Bounds& bounds, const MultiStartOptions& options = {});
// The reference: a plain single-threaded loop of minimise_from over every start, then of the
// polish over the leaders.
MultiStartFit fit_exhaustive(const FitObjective& objective, const std::vector<Theta>& starts,
                             const Bounds& bounds, const MultiStartOptions& options = {});

std::vector<Theta> all_starts(const StartGrid& grid);

}  // namespace moeplan::law
