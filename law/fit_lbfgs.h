#pragma once
// Multi-start L-BFGS (dlib, box-constrained) over a start grid: every start is minimised and
// the best objective wins (§5, App. E).
#include <cstddef>
#include <vector>

#include "law/fit_grid.h"
#include "law/fit_objective.h"

namespace moeplan::law {

struct LocalFitOptions {
  double relative_tolerance = 1e-10;  // stop when f_prev − f ≤ tol·|f| (or tiny gradient)
  int max_iterations = 2000;
  int lbfgs_memory = 10;
};

struct LocalFit {
  Theta theta{};
  double objective = 0;
  int iterations = 0;
};

// Plain dlib L-BFGS (find_min_box_constrained) from one start.
LocalFit minimise_from(const FitObjective& objective, const Theta& start, const Bounds& bounds,
                       const LocalFitOptions& options = {});

struct MultiStartOptions {
  LocalFitOptions local;
  unsigned threads = 2;
};

struct MultiStartFit {
  Theta best{};
  double objective = 0;
  std::size_t starts = 0;
  std::size_t total_iterations = 0;
  std::size_t failed_starts = 0;   // the objective turned non-finite (should not happen in bounds)
  // The best few distinct local optima (max-norm distance in θ > 1e-3), best first: the
  // starts of the bootstrap refits.
  std::vector<LocalFit> leaders;
};

inline constexpr std::size_t kLeaderCount = 8;

// The driver: every start, in contiguous chunks over threads. Each start runs minimise_from;
// the best objective wins, ties going to the earlier start, so the best θ equals
// fit_exhaustive's.
MultiStartFit fit_multistart(const FitObjective& objective, const std::vector<Theta>& starts,
                             const Bounds& bounds, const MultiStartOptions& options = {});
// The reference: a plain single-threaded loop of minimise_from over every start.
MultiStartFit fit_exhaustive(const FitObjective& objective, const std::vector<Theta>& starts,
                             const Bounds& bounds, const LocalFitOptions& options = {});

std::vector<Theta> all_starts(const StartGrid& grid);

}  // namespace moeplan::law
