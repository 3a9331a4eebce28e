// IsoFLOP surfaces (Eq. 8): exact recovery of a polynomial, degree choice by CV, slices.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "law/isoflop_surface.h"
#include "util/error.h"

namespace moeplan::law {
namespace {

// The paper's (2,2,2) form with known coefficients: optimum in S at fixed N is interior.
double quadratic(double n, double s) {
  const double nh = std::log(n), sh = -std::log1p(-s);
  const double x = nh - std::log(1e9);
  return 2.5 + 0.02 * x * x + 0.01 * x - 0.12 * sh + 0.03 * sh * sh + 0.001 * (nh * sh) - 0.00002 * (nh * sh) * (nh * sh);
}

std::vector<FitRun> grid_runs(double noise_sd) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, noise_sd);
  std::vector<FitRun> runs;
  for (double s : {0.0, 0.5, 0.75, 0.875, 0.9375, 0.96875})
    for (int k = 0; k < 9; ++k) {
      const double n = 1e8 * std::pow(100.0, k / 8.0);
      runs.push_back({n, 1e10, s, quadratic(n, s) + noise(rng), 1e20, n * (0.1 + 0.9 * (1 - s))});
    }
  return runs;
}

TEST(IsoflopSurface, LeastSquaresRecoversAnExactPolynomial) {
  const auto runs = grid_runs(0);
  const IsoflopSurface s = fit_surface_with_degrees(runs, {2, 2, 2});
  EXPECT_LT(s.train_mse, 1e-20);
  EXPECT_NEAR(s.predict(3e9, 0.8), quadratic(3e9, 0.8), 1e-9);
}

TEST(IsoflopSurface, CrossValidationPicksEnoughDegreesAndSlicesFindTheMinimum) {
  const auto runs = grid_runs(1e-4);
  const IsoflopSurface s = fit_isoflop_surface(runs);
  EXPECT_EQ(s.folds, 5);
  EXPECT_GE(s.degrees.params, 2);
  EXPECT_GE(s.degrees.sparsity, 1);
  EXPECT_LT(s.cv_mse, 1e-6);
  // N*(S): the quadratic in x = ln(N/1e9) has its minimum near x = −0.25 − 0.025·Ŝ-ish: compare
  // with a brute-force search of the true function.
  const auto slices = optimal_params(s, runs, {0.5});
  ASSERT_EQ(slices.size(), 1u);
  double best_n = 0, best = 1e9;
  for (int i = 0; i <= 4000; ++i) {
    const double n = 1e8 * std::pow(100.0, i / 4000.0);
    if (quadratic(n, 0.5) < best) best = quadratic(n, 0.5), best_n = n;
  }
  EXPECT_NEAR(std::log(slices[0].optimum), std::log(best_n), 0.05);
  EXPECT_FALSE(slices[0].at_edge);
  ASSERT_TRUE(slices[0].active_params.has_value());
  EXPECT_NEAR(*slices[0].active_params / slices[0].optimum, 0.55, 1e-6);
  const auto sstar = optimal_sparsity(s, {1e9});
  double best_s = 0;
  best = 1e9;
  for (int i = 0; i <= 4000; ++i) {
    const double sp = 0.96875 * i / 4000.0;
    if (quadratic(1e9, sp) < best) best = quadratic(1e9, sp), best_s = sp;
  }
  EXPECT_NEAR(sstar[0].optimum, best_s, 0.01);
}

TEST(IsoflopSurface, GroupsByBudgetColumnOr6NaD) {
  std::vector<FitRun> runs = {{1e9, 1e10, 0, 3, 0, 5e8}, {2e9, 1.0001e10, 0, 3, 0, 5e8}, {1e9, 1e11, 0, 3, 0, 5e8}};
  const auto groups = group_by_budget(runs);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_DOUBLE_EQ(groups[0].first, 3e19);
  EXPECT_EQ(groups[0].second.size(), 2u);
  runs[0].active_params = 0;
  EXPECT_THROW(group_by_budget(runs), Error);
}

}  // namespace
}  // namespace moeplan::law
