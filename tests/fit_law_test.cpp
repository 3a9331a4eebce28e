// `law fit` as math: recovery of known laws, held-out accuracy, the driver's equivalence with
// exhaustive L-BFGS, bootstrap, and the ill-conditioning warnings. Reduced start sets keep
// this fast; the full Table 2 grid is timed in bench/bench_fit.cpp.
#include "law/fit_law.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "law/fit_grid.h"
#include "law/fit_lbfgs.h"
#include "law/presets.h"
#include "util/error.h"

namespace moeplan::law {
namespace {

// A sweep that brackets each budget's optimum: 5 budgets × 6 sparsities × 8 sizes (60M–15B).
std::vector<FitRun> sparse_sweep(const ScalingLaw& truth, double noise_sd, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, noise_sd);
  std::vector<FitRun> runs;
  for (double c : {3e19, 6e19, 1e20, 3e20, 1e21})
    for (double s : {0.0, 0.5, 0.75, 0.875, 0.9375, 0.96875})
      for (int k = 0; k < 8; ++k) {
        const double n = 6e7 * std::pow(1.5e10 / 6e7, k / 7.0);
        const double na = n * (0.2 + 0.8 * (1 - s));
        const double d = c / (6 * na);
        runs.push_back({n, d, s, predict_loss(truth, n, d, s) * std::exp(noise(rng)), c, na});
      }
  return runs;
}

std::vector<FitRun> dense_sweep(const ScalingLaw& truth) {
  std::vector<FitRun> runs;
  for (double c : {1e18, 1e19, 1e20, 1e21})
    for (int k = 0; k < 9; ++k) {
      const double n = 4e7 * std::pow(250.0, k / 8.0);
      const double d = c / (6 * n);
      runs.push_back({n, d, 0, predict_loss(truth, n, d, 0), c, n});
    }
  return runs;
}

TEST(FitLaw, NoisySyntheticRunsPredictHeldOutSparsityWithin001Nats) {
  const ScalingLaw truth = preset_law("abnar2025");
  const auto runs = sparse_sweep(truth, 0.005, 42);  // 0.5 % multiplicative noise
  FitSettings settings;
  // The coarse grid (3 values per axis, 19,683 starts, 1 s): it finds the full grid's optimum
  // here (held-out RMSE vs the truth 0.0073 nats; full grid 0.0070, 33 s on 2 threads), while
  // 1,000 or 3,000 strided starts stop in poorer optima (objective +10%, RMSE 0.024–0.029).
  settings.starts = all_starts(coarse_grid(LawForm::kSparse));
  const FitResult result = fit_law(runs, settings);
  EXPECT_LE(result.objective, result.grid_objective);
  ASSERT_EQ(result.held_out_runs.size(), 40u);  // S = 0.96875, the highest
  for (const auto& r : result.held_out_runs) ASSERT_DOUBLE_EQ(r.sparsity, 0.96875);
  // Prediction error against the noise-free law on the held-out runs.
  double sum = 0;
  for (const auto& r : result.held_out_runs) {
    const double error =
        loss_terms(result.law.coefficients, LawForm::kSparse, r.total_params, r.tokens, r.sparsity)
            .total() -
        predict_loss(truth, r.total_params, r.tokens, r.sparsity);
    sum += error * error;
  }
  const double rmse_vs_truth = std::sqrt(sum / result.held_out_runs.size());
  EXPECT_LT(rmse_vs_truth, 0.01);
  // Against the noisy measurements the error is the noise itself (0.5 % of ~2.7 nats).
  EXPECT_LT(result.held_out_metrics.rmse, 0.025);
  EXPECT_LT(result.fit_metrics.rmse, 0.02);
  ASSERT_TRUE(result.law.domain.sparsity.has_value());
  EXPECT_DOUBLE_EQ(result.law.domain.sparsity->hi, 0.9375);  // the fit set's range
  ASSERT_TRUE(result.law.domain.budget_flops.has_value());
  EXPECT_DOUBLE_EQ(result.law.domain.budget_flops->lo, 3e19);
}

TEST(FitLaw, NoiseFreeHoffmannDataGivesBackItsCoefficients) {
  const ScalingLaw truth = preset_law("hoffmann2022");
  FitSettings settings;
  settings.form = LawForm::kDense;
  settings.holdout = Holdout::kNone;  // every start of Hoffmann's grid (4,500)
  const FitResult result = fit_law(dense_sweep(truth), settings);
  const Coefficients& k = result.law.coefficients;
  EXPECT_NEAR(k.a, 406.4, 0.05);
  EXPECT_NEAR(k.b, 410.7, 0.05);
  EXPECT_NEAR(k.e, 1.69, 0.005);
  EXPECT_NEAR(k.alpha, 0.34, 0.005);
  EXPECT_NEAR(k.beta, 0.28, 0.005);
  EXPECT_EQ(result.starts, 4500u);
  EXPECT_TRUE(result.warnings.empty());
}

TEST(FitLaw, DriverReturnsTheSameOptimumAsExhaustiveLbfgs) {
  const auto runs = sparse_sweep(preset_law("abnar2025"), 0.005, 7);
  const FitObjective objective(runs, LawForm::kSparse);
  const Bounds bounds = fit_bounds(LawForm::kSparse);
  // A small grid: Table 2's axes thinned to 2 values each (2^9 = 512 starts).
  StartGrid grid = paper_grid(LawForm::kSparse);
  for (auto& axis : grid.axes)
    if (axis.size() > 1) axis = {axis.front(), axis[axis.size() / 2]};
  const auto starts = all_starts(grid);
  ASSERT_EQ(starts.size(), 512u);
  const MultiStartFit exhaustive = fit_exhaustive(objective, starts, bounds);
  for (unsigned threads : {1u, 2u, 3u}) {
    MultiStartOptions options;
    options.threads = threads;
    const MultiStartFit fast = fit_multistart(objective, starts, bounds, options);
    EXPECT_EQ(fast.starts, starts.size());
    EXPECT_DOUBLE_EQ(fast.objective, exhaustive.objective);
    for (int k = 0; k < 10; ++k) EXPECT_DOUBLE_EQ(fast.best[k], exhaustive.best[k]) << k;
  }
  // And the optimum is a real one: no start of the grid does better.
  for (const Theta& start : strided_starts(grid, 32))
    EXPECT_GE(minimise_from(objective, start, bounds).objective, exhaustive.objective);
}

// The fixed-size copy of dlib's L-BFGS direction that minimise_from plugs into dlib's
// box-constrained driver follows dlib's own lbfgs_search_strategy bit for bit.
TEST(FitLaw, FixedSizeLbfgsFollowsDlibsIteratesExactly) {
  const auto runs = sparse_sweep(preset_law("abnar2025"), 0.005, 11);
  for (LawForm form : {LawForm::kSparse, LawForm::kDense}) {
    const FitObjective objective(runs, form);
    const Bounds bounds = fit_bounds(form);
    for (const Theta& start : strided_starts(paper_grid(form), 120)) {
      LocalFitOptions options;
      const LocalFit ours = minimise_from(objective, start, bounds, options);
      options.dlib_search_strategy = true;
      const LocalFit dlibs = minimise_from(objective, start, bounds, options);
      ASSERT_EQ(ours.iterations, dlibs.iterations);
      ASSERT_EQ(ours.objective, dlibs.objective);
      for (int k = 0; k < objective.dimension(); ++k) ASSERT_EQ(ours.theta[k], dlibs.theta[k]) << k;
    }
  }
}

// Every start stops by scipy's rule; the best distinct optima are then polished, which can
// only lower the objective, and the polished best is a stationary point to the tight rule.
TEST(FitLaw, LeadersArePolishedPastTheGridsStoppingRule) {
  const auto runs = sparse_sweep(preset_law("abnar2025"), 0.005, 7);
  const FitObjective objective(runs, LawForm::kSparse);
  const Bounds bounds = fit_bounds(LawForm::kSparse);
  const auto starts = strided_starts(paper_grid(LawForm::kSparse), 400);
  MultiStartOptions options;
  std::size_t last_done = 0, calls = 0;
  options.progress = [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(total, starts.size());
    EXPECT_GE(done, last_done);
    last_done = done;
    ++calls;
  };
  const MultiStartFit fit = fit_multistart(objective, starts, bounds, options);
  EXPECT_GT(calls, 0u);
  EXPECT_LE(last_done, starts.size());
  EXPECT_LE(fit.objective, fit.grid_objective);
  EXPECT_GT(fit.polish_iterations, 0u);
  ASSERT_FALSE(fit.leaders.empty());
  EXPECT_EQ(fit.leaders.front().objective, fit.objective);
  for (std::size_t i = 1; i < fit.leaders.size(); ++i)
    EXPECT_LE(fit.leaders[i - 1].objective, fit.leaders[i].objective);
  // Polishing the winner again moves it by no more than the tight rule allows.
  const LocalFit again = minimise_from(objective, fit.best, bounds, polish_options());
  EXPECT_LE(fit.objective - again.objective, 1e-6 * fit.objective);
  // The scipy rule alone: no start's endpoint beats the polished best.
  for (const Theta& start : strided_starts(paper_grid(LawForm::kSparse), 40))
    EXPECT_GE(minimise_from(objective, start, bounds).objective, fit.objective);
}

TEST(FitLaw, BootstrapGivesIntervalsAndPredictionBands) {
  const auto runs = sparse_sweep(preset_law("abnar2025"), 0.005, 3);
  FitSettings settings;
  settings.starts = strided_starts(paper_grid(LawForm::kSparse), 100);
  settings.bootstrap_samples = 8;
  const FitResult result = fit_law(runs, settings);
  ASSERT_EQ(result.law.bootstrap.size(), 8u);
  ASSERT_EQ(result.intervals.size(), 10u);
  for (const auto& ci : result.intervals) EXPECT_LE(ci.lo, ci.hi) << ci.name;
  EXPECT_EQ(result.intervals[1].name, "alpha");
  const auto band = predicted_loss_interval(result.law, 1e9, 2e10, 0.5);
  ASSERT_TRUE(band.has_value());
  EXPECT_LT(band->hi - band->lo, 0.05);
  // Same seed, same intervals.
  const FitResult again = fit_law(runs, settings);
  EXPECT_DOUBLE_EQ(again.intervals[1].lo, result.intervals[1].lo);
}

TEST(FitLaw, IllConditionedFitsAreReported) {
  // Loss that grows with N: alpha wants to go negative and stops at its bound 0.
  std::vector<FitRun> runs;
  for (int i = 0; i < 12; ++i)
    for (double s : {0.0, 0.5}) {
      const double n = 1e8 * std::pow(2.0, i), d = 1e10;
      runs.push_back({n, d, s, 2.0 + 0.01 * i, 0, 0});
    }
  FitSettings settings;
  settings.holdout = Holdout::kNone;
  settings.starts = strided_starts(paper_grid(LawForm::kSparse), 50);
  const FitResult result = fit_law(runs, settings);
  ASSERT_FALSE(result.warnings.empty());
  bool bound = false, sparsities = false;
  for (const auto& w : result.warnings) {
    bound |= w.find("bound") != std::string::npos;
    sparsities |= w.find("distinct sparsities") != std::string::npos;
  }
  EXPECT_TRUE(bound);
  EXPECT_TRUE(sparsities);
}

TEST(FitLaw, TooFewRunsForTheFormIsAnError) {
  auto runs = sparse_sweep(preset_law("abnar2025"), 0, 1);
  runs.resize(10);  // Eq. 6 has 10 coefficients: 11 runs are needed
  FitSettings settings;
  settings.holdout = Holdout::kNone;
  try {
    fit_law(runs, settings);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("need at least 11"), std::string::npos) << e.what();
  }
}

TEST(FitLaw, HoldoutRules) {
  const auto runs = sparse_sweep(preset_law("abnar2025"), 0, 1);
  std::vector<FitRun> fit, held;
  split_runs(runs, Holdout::kMaxBudget, fit, held);
  EXPECT_EQ(held.size(), 48u);
  for (const auto& r : held) EXPECT_DOUBLE_EQ(r.budget_flops, 1e21);
  split_runs(runs, Holdout::kNone, fit, held);
  EXPECT_EQ(fit.size(), runs.size());
  EXPECT_TRUE(held.empty());
  std::vector<FitRun> dense(5, FitRun{1e9, 1e10, 0, 3, 0, 0});
  EXPECT_THROW(split_runs(dense, Holdout::kMaxSparsity, fit, held), Error);
  EXPECT_EQ(holdout_from_name("max-sparsity"), Holdout::kMaxSparsity);
  EXPECT_FALSE(holdout_from_name("bogus").has_value());
}

// --fix: e held at its truth, the other nine recovered from noise-free runs; the grid's e axis
// already has one value, so fix an exponent too and check its axis collapses.
TEST(FitLawFixed, FixedAtTruthRecoversTheOthers) {
  const ScalingLaw truth = preset_law("abnar2025");
  const auto runs = sparse_sweep(truth, 0, 5);
  FitSettings settings;
  settings.fixed =
      parse_fixed_coefficients({"e=" + std::to_string(truth.coefficients.e)}, LawForm::kSparse);
  settings.fixed[0].value = truth.coefficients.e;  // exactly, not as printed
  settings.starts = all_starts(coarse_grid(LawForm::kSparse));
  const FitResult result = fit_law(runs, settings);
  const Coefficients& k = result.law.coefficients;
  EXPECT_EQ(k.e, truth.coefficients.e);  // held exactly
  EXPECT_NEAR(k.alpha, truth.coefficients.alpha, 0.02);
  EXPECT_NEAR(k.beta, truth.coefficients.beta, 0.02);
  EXPECT_NEAR(k.gamma, truth.coefficients.gamma, 0.03);
  EXPECT_LT(result.fit_metrics.rmse, 1e-3);
  EXPECT_LT(result.held_out_metrics.rmse, 0.01);
  for (const auto& w : result.warnings) EXPECT_EQ(w.find("coefficient e "), std::string::npos) << w;
}

TEST(FitLawFixed, FixedAxesCollapseTheGridAndStartsAreNotRepeated) {
  const FixedCoefficients fixed = parse_fixed_coefficients({"alpha=0.3,d=5"}, LawForm::kSparse);
  ASSERT_EQ(fixed.size(), 2u);
  EXPECT_EQ(fixed[0].index, 1);
  EXPECT_EQ(fixed[1].index, 6);
  const StartGrid full = paper_grid(LawForm::kSparse);
  const StartGrid pinned = pin_grid(full, fixed);
  EXPECT_EQ(pinned.size(), full.size() / (6 * 3));  // α had 6 values, log d 3
  EXPECT_EQ(pinned.axes[1], std::vector<double>{0.3});
  EXPECT_DOUBLE_EQ(pinned.axes[6][0], std::log(5.0));
  // Pinning starts of the full grid leaves each distinct start once.
  const auto starts = pin_starts(all_starts(coarse_grid(LawForm::kSparse)), fixed);
  EXPECT_EQ(starts.size(), coarse_grid(LawForm::kSparse).size() / 9);
  for (const Theta& t : starts) EXPECT_EQ(t[1], 0.3);
  const Bounds bounds = pin_bounds(fit_bounds(LawForm::kSparse), fixed);
  EXPECT_EQ(bounds.lower[6], bounds.upper[6]);
  EXPECT_EQ(free_parameter_count(LawForm::kSparse, fixed), 8);
}

TEST(FitLawFixed, BootstrapRefitsKeepThemFixedAndTheRunsRuleCountsFreeOnes) {
  const ScalingLaw truth = preset_law("hoffmann2022");
  auto runs = dense_sweep(truth);
  FitSettings settings;
  settings.form = LawForm::kDense;
  settings.holdout = Holdout::kNone;
  settings.fixed = parse_fixed_coefficients({"e=1.69", "beta=0.28"}, LawForm::kDense);
  settings.bootstrap_samples = 5;
  const FitResult result = fit_law(runs, settings);
  EXPECT_EQ(result.starts, 4500u / (5 * 5));  // Hoffmann's grid without its β and log e axes
  EXPECT_NEAR(result.law.coefficients.alpha, 0.34, 0.005);
  ASSERT_EQ(result.intervals.size(), 5u);
  EXPECT_TRUE(result.intervals[4].fixed);
  EXPECT_EQ(result.intervals[4].lo, 1.69);
  EXPECT_EQ(result.intervals[4].hi, 1.69);
  EXPECT_FALSE(result.intervals[1].fixed);
  for (const auto& sample : result.law.bootstrap) {
    EXPECT_EQ(sample.e, 1.69);
    EXPECT_EQ(sample.beta, 0.28);
  }
  // 3 free coefficients: 4 runs suffice where the full form needs 6.
  runs.resize(4);
  settings.bootstrap_samples = 0;
  EXPECT_NO_THROW(fit_law(runs, settings));
  runs.resize(3);
  try {
    fit_law(runs, settings);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("need at least 4 (free coefficients + 1)"),
              std::string::npos)
        << e.what();
  }
}

TEST(FitLawFixed, BadFixesAreOneLineErrors) {
  const auto error_of = [](const std::vector<std::string>& items, LawForm form) {
    try {
      parse_fixed_coefficients(items, form);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of({"lamda=0.1"}, LawForm::kSparse).find("did you mean 'lambda'"),
            std::string::npos);
  EXPECT_NE(error_of({"e=1.6", "e=1.7"}, LawForm::kSparse).find("e is given twice"),
            std::string::npos);
  EXPECT_NE(error_of({"e=1.6,e=1.6"}, LawForm::kSparse).find("given twice"), std::string::npos);
  EXPECT_NE(error_of({"e=0"}, LawForm::kSparse).find("e must be > 0"), std::string::npos);
  EXPECT_NE(error_of({"a=-3"}, LawForm::kSparse).find("a must be > 0"), std::string::npos);
  EXPECT_NE(error_of({"alpha=x"}, LawForm::kSparse).find("not a number"), std::string::npos);
  EXPECT_NE(error_of({"e"}, LawForm::kSparse).find("expected NAME=VALUE"), std::string::npos);
  EXPECT_NE(error_of({"c=1"}, LawForm::kDense).find("chinchilla form has no coefficient 'c'"),
            std::string::npos);
  EXPECT_NE(error_of({"a=1,alpha=1,b=1,beta=1,e=1"}, LawForm::kDense).find("nothing to fit"),
            std::string::npos);
  EXPECT_EQ(error_of({"lambda=-0.5"}, LawForm::kSparse), "");  // λ, δ may be negative
}

// The interval is that of the refits' estimates, not one around the estimate: when the refits
// land on one side of it, the estimate lies outside and the fit says so.
TEST(FitLaw, EstimateOutsideItsOwnIntervalIsFlagged) {
  FitSettings settings;
  settings.form = LawForm::kDense;
  FitResult result;
  result.law.form = LawForm::kDense;
  result.law.coefficients = {3.327e8, 400, 0, 0, 1.7, 0.5, 0.3, 0, 0, 0};
  for (double a : {42.56, 100.0, 1e5, 1e7, 3.257e8}) {
    Coefficients sample = result.law.coefficients;
    sample.a = a;
    result.law.bootstrap.push_back(sample);
  }
  add_bootstrap_intervals(settings, result);
  ASSERT_EQ(result.intervals.size(), 5u);
  EXPECT_TRUE(result.intervals[0].outside());
  EXPECT_FALSE(result.intervals[2].outside());  // b: every refit at the estimate
  bool flagged = false;
  for (const auto& w : result.warnings) flagged |= w.find("estimate of a") != std::string::npos;
  EXPECT_TRUE(flagged);
}

}  // namespace
}  // namespace moeplan::law
