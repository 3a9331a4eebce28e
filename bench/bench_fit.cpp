// Times `law fit` (Eq. 6, the full Table 2 grid) on synthetic runs; numbers go in BENCHMARKS.md.
//   bench_fit [RUNS] [THREADS] [STARTS|full]
// Prints the objective evaluation time (fast and reference), the per-start time of one L-BFGS
// run on a sample of starts (with the fixed-size direction and with dlib's own), and the wall
// time of the multi-start driver over the grid (every start, then the leaders' polish).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "law/fit_grid.h"
#include "law/fit_lbfgs.h"
#include "law/presets.h"
#include "tests/support/synthetic_sweep.h"

using namespace moeplan::law;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs drawn from Table 3's law with 0.5 % multiplicative noise: budgets × sparsities × sizes.
std::vector<FitRun> synthetic_runs(std::size_t count) {
  moeplan::testing::SyntheticSweep sweep;
  sweep.sparsities.push_back(0.98);
  sweep.sizes = static_cast<int>(std::max<std::size_t>(1, count / 35));
  sweep.noise_sd = 0.005;
  sweep.seed = 7;
  auto runs = moeplan::testing::synthetic_sweep(preset_law("abnar2025"), sweep);
  runs.resize(std::min(runs.size(), count));
  return runs;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t run_count = argc > 1 ? std::stoul(argv[1]) : 500;
  const unsigned threads = argc > 2 ? static_cast<unsigned>(std::stoul(argv[2])) : 2;
  const std::string which = argc > 3 ? argv[3] : "full";
  const auto runs = synthetic_runs(run_count + 35);  // a few spare, cut to run_count
  std::vector<FitRun> used(runs.begin(), runs.begin() + std::min(run_count, runs.size()));
  const FitObjective objective(used, LawForm::kSparse);
  std::printf("runs: %zu, threads: %u\n", objective.run_count(), threads);

  const Theta theta =
      theta_from_coefficients(preset_law("abnar2025").coefficients, LawForm::kSparse);
  double gradient[kMaxFitParams];
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20000; ++i) objective.evaluate(theta.data(), gradient);
  std::printf("objective+gradient (vectorised): %.2f us\n", seconds_since(t0) / 20000 * 1e6);
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 500; ++i) objective.evaluate_reference(theta.data(), gradient);
  std::printf("objective+gradient (std::exp reference): %.2f us\n", seconds_since(t0) / 500 * 1e6);

  const StartGrid grid = paper_grid(LawForm::kSparse);
  const Bounds bounds = fit_bounds(LawForm::kSparse);
  const auto sample = strided_starts(grid, 400);
  for (bool dlib_strategy : {false, true}) {
    LocalFitOptions local;
    local.dlib_search_strategy = dlib_strategy;
    std::size_t iterations = 0;
    t0 = std::chrono::steady_clock::now();
    for (const Theta& start : sample)
      iterations += minimise_from(objective, start, bounds, local).iterations;
    const double per_start = seconds_since(t0) / double(sample.size());
    std::printf(
        "L-BFGS from one start (%s direction), 1 thread, %zu sampled starts: %.3f ms/start, "
        "%.1f iterations/start\n",
        dlib_strategy ? "dlib's lbfgs_search_strategy" : "fixed-size", sample.size(),
        per_start * 1e3, double(iterations) / double(sample.size()));
  }

  const auto starts = which == "full" ? all_starts(grid) : strided_starts(grid, std::stoul(which));
  MultiStartOptions options;
  options.threads = threads;
  t0 = std::chrono::steady_clock::now();
  const MultiStartFit fit = fit_multistart(objective, starts, bounds, options);
  const double wall = seconds_since(t0);
  std::printf(
      "multi-start driver: %zu starts in %.1f s wall (%.3f ms/start/thread), best %.10g "
      "(%.10g over the starts, %zu polish iterations)\n",
      fit.starts, wall, wall * threads / double(fit.starts) * 1e3, fit.objective,
      fit.grid_objective, fit.polish_iterations);
  std::printf("vs scipy at 37 ms/start: %.0fx faster\n", 0.037 * double(fit.starts) / wall);
  const Coefficients k = coefficients_from_theta(fit.best, LawForm::kSparse);
  std::printf(
      "a %.6g alpha %.4f b %.6g beta %.4f c %.4g lambda %.4f d %.4g delta %.4f gamma %.4f e %.4f\n",
      k.a, k.alpha, k.b, k.beta, k.c, k.lambda, k.d, k.delta, k.gamma, k.e);
}
