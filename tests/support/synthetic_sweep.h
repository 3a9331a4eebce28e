#pragma once
// Synthetic sweeps drawn from a known law, for the fit tests and bench/bench_fit.cpp (header
// only, so the benchmarks use it without the GoogleTest support library): every budget ×
// sparsity × size, sizes log-spaced from min_params to max_params, N_a = N·(0.2 + 0.8·(1 − S)),
// D = C / (6·N_a), loss = the law's prediction × exp(noise), noise ~ N(0, noise_sd).
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "law/fit_objective.h"
#include "law/scaling_law.h"

namespace moeplan::testing {

struct SyntheticSweep {
  std::vector<double> budgets{3e19, 6e19, 1e20, 3e20, 1e21};
  std::vector<double> sparsities{0.0, 0.5, 0.75, 0.875, 0.9375, 0.96875};
  int sizes = 8;  // per budget and sparsity
  double min_params = 6e7, max_params = 1.5e10;
  double noise_sd = 0;  // multiplicative, on the log of the loss; 0: exact
  std::uint64_t seed = 1;
};

inline std::vector<law::FitRun> synthetic_sweep(const law::ScalingLaw& truth,
                                                const SyntheticSweep& sweep) {
  std::mt19937_64 rng(sweep.seed);
  std::normal_distribution<double> noise(0, sweep.noise_sd > 0 ? sweep.noise_sd : 1.0);
  std::vector<law::FitRun> runs;
  for (double c : sweep.budgets)
    for (double s : sweep.sparsities)
      for (int k = 0; k < sweep.sizes; ++k) {
        const double n = sweep.min_params * std::pow(sweep.max_params / sweep.min_params,
                                                     double(k) / double(sweep.sizes - 1));
        const double na = n * (0.2 + 0.8 * (1 - s));
        const double d = c / (6 * na);
        const double factor = sweep.noise_sd > 0 ? std::exp(noise(rng)) : 1.0;
        runs.push_back({n, d, s, law::predict_loss(truth, n, d, s) * factor, c, na});
      }
  return runs;
}

}  // namespace moeplan::testing
