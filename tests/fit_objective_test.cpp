// The fitting objective: the vectorised evaluation against the plain one, and its gradient.
#include "law/fit_objective.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "law/fit_grid.h"
#include "law/presets.h"

namespace moeplan::law {
namespace {

std::vector<FitRun> some_runs(std::size_t count) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  const ScalingLaw truth = preset_law("abnar2025");
  std::vector<FitRun> runs;
  for (std::size_t i = 0; i < count; ++i) {
    const double n = std::pow(10, 7.5 + 3 * u(rng)), d = std::pow(10, 9 + 3 * u(rng));
    const double s = std::floor(u(rng) * 6) / 6.0;  // repeated sparsities, as in a sweep
    runs.push_back({n, d, s, predict_loss(truth, n, d, s) * (1 + 0.02 * (u(rng) - 0.5)), 0, 0});
  }
  return runs;
}

// A sweep whose runs share few (N, S) pairs (3 sizes × 3 sparsities, distinct D): the
// objective computes the N- and S-only terms once per pair and sums the gradient per pair.
std::vector<FitRun> repeated_pair_runs(std::size_t count) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  const ScalingLaw truth = preset_law("abnar2025");
  const double sparsities[] = {0.0, 0.5, 0.75};
  std::vector<FitRun> runs;
  for (std::size_t i = 0; i < count; ++i) {
    const double n = std::pow(10, 8 + double(i % 3)), s = sparsities[(i / 3) % 3];
    const double d = std::pow(10, 9 + 3 * u(rng));
    runs.push_back({n, d, s, predict_loss(truth, n, d, s) * (1 + 0.02 * (u(rng) - 0.5)), 0, 0});
  }
  return runs;
}

TEST(FitObjective, ThetaRoundTripsCoefficients) {
  const Coefficients k = preset_law("abnar2025").coefficients;
  const Coefficients back =
      coefficients_from_theta(theta_from_coefficients(k, LawForm::kSparse), LawForm::kSparse);
  EXPECT_NEAR(back.a, k.a, 1e-9 * k.a);
  EXPECT_DOUBLE_EQ(back.lambda, k.lambda);
  EXPECT_NEAR(back.e, k.e, 1e-12);
}

TEST(FitObjective, HuberIsQuadraticThenLinear) {
  EXPECT_DOUBLE_EQ(huber(5e-4), 0.5 * 5e-4 * 5e-4);
  EXPECT_DOUBLE_EQ(huber(-0.01), 1e-3 * (0.01 - 0.5e-3));
}

TEST(FitObjective, VectorisedMatchesReferenceAcrossTheGrid) {
  for (LawForm form : {LawForm::kSparse, LawForm::kDense}) {
    // Padding: counts that are not multiples of the vector width; runs with distinct (N, S)
    // pairs and runs sharing a few.
    for (std::size_t count : {1u, 7u, 61u, 1007u}) {
      for (const auto& runs : {some_runs(count), repeated_pair_runs(count)}) {
        const FitObjective objective(runs, form);
        for (const Theta& theta : strided_starts(paper_grid(form), 50)) {
          double g_fast[kMaxFitParams], g_ref[kMaxFitParams];
          const double f_fast = objective.evaluate(theta.data(), g_fast);
          const double f_ref = objective.evaluate_reference(theta.data(), g_ref);
          ASSERT_NEAR(f_fast, f_ref, 1e-12 * std::fabs(f_ref) + 1e-300);
          for (int k = 0; k < objective.dimension(); ++k)
            ASSERT_NEAR(g_fast[k], g_ref[k], 1e-11 * (std::fabs(g_ref[k]) + 1e-3));
        }
      }
    }
  }
}

// θ far outside the bounds (exponents past ±700) takes the clamped path; it must still agree
// with the reference where that is finite, and stay finite.
TEST(FitObjective, ExtremeThetaTakesTheClampedPathAndStaysFinite) {
  for (LawForm form : {LawForm::kSparse, LawForm::kDense}) {
    const FitObjective objective(some_runs(61), form);
    Theta theta = strided_starts(paper_grid(form), 10)[4];
    theta[1] = 40;  // α: a·N^−α underflows (|exponent| ≈ 40·ln N ≫ 700)
    double g_fast[kMaxFitParams], g_ref[kMaxFitParams];
    const double f_fast = objective.evaluate(theta.data(), g_fast);
    const double f_ref = objective.evaluate_reference(theta.data(), g_ref);
    ASSERT_TRUE(std::isfinite(f_fast));
    EXPECT_NEAR(f_fast, f_ref, 1e-12 * std::fabs(f_ref));
    for (int k = 0; k < objective.dimension(); ++k) {
      ASSERT_TRUE(std::isfinite(g_fast[k])) << k;
      EXPECT_NEAR(g_fast[k], g_ref[k], 1e-11 * (std::fabs(g_ref[k]) + 1e-3)) << k;
    }
  }
}

// value() then gradient() on a caller's workspace equals evaluate(); a gradient at another θ
// than the workspace holds recomputes the value first.
TEST(FitObjective, LazyGradientFromTheWorkspaceEqualsEvaluate) {
  const FitObjective objective(repeated_pair_runs(61), LawForm::kSparse);
  const auto starts = strided_starts(paper_grid(LawForm::kSparse), 10);
  FitObjective::Workspace workspace;
  double g_lazy[kMaxFitParams], g_both[kMaxFitParams];
  EXPECT_EQ(objective.value(starts[2].data(), workspace),
            objective.evaluate(starts[2].data(), g_both));
  objective.gradient(starts[2].data(), workspace, g_lazy);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(g_lazy[k], g_both[k]) << k;
  objective.value(starts[5].data(), workspace);
  objective.gradient(starts[7].data(), workspace, g_lazy);  // not the workspace's θ
  objective.evaluate(starts[7].data(), g_both);
  for (int k = 0; k < 10; ++k) EXPECT_EQ(g_lazy[k], g_both[k]) << k;
}

TEST(FitObjective, GradientMatchesFiniteDifferences) {
  const FitObjective objective(some_runs(40), LawForm::kSparse);
  Theta theta = theta_from_coefficients(preset_law("abnar2025").coefficients, LawForm::kSparse);
  theta[0] += 0.3;  // away from the optimum: residuals both inside and outside Huber's δ
  double g[kMaxFitParams];
  objective.evaluate(theta.data(), g);
  for (int k = 0; k < 10; ++k) {
    Theta plus = theta, minus = theta;
    const double h = 1e-6;
    plus[k] += h;
    minus[k] -= h;
    const double numeric =
        (objective.evaluate(plus.data(), nullptr) - objective.evaluate(minus.data(), nullptr)) /
        (2 * h);
    EXPECT_NEAR(g[k], numeric, 1e-6 * (std::fabs(numeric) + 1e-4)) << "parameter " << k;
  }
}

TEST(FitObjective, WeightsActAsRunMultiplicities) {
  auto runs = some_runs(5);
  const FitObjective weighted(runs, LawForm::kSparse, {2, 0, 1, 1, 1});
  auto doubled = runs;
  doubled.erase(doubled.begin() + 1);
  doubled.push_back(runs[0]);
  const FitObjective repeated(doubled, LawForm::kSparse);
  const Theta theta = strided_starts(paper_grid(LawForm::kSparse), 10)[3];
  EXPECT_NEAR(weighted.evaluate(theta.data(), nullptr), repeated.evaluate(theta.data(), nullptr),
              1e-12);
}

TEST(FitGrid, Table2GridHas437400Starts) {
  const StartGrid grid = paper_grid(LawForm::kSparse);
  EXPECT_EQ(grid.size(), 437400u);
  const Theta last = grid.start(grid.size() - 1);
  EXPECT_DOUBLE_EQ(last[0], 20);
  EXPECT_DOUBLE_EQ(last[1], 1.25);
  EXPECT_DOUBLE_EQ(last[5], 1);
  EXPECT_DOUBLE_EQ(last[9], 1.5);
  EXPECT_EQ(paper_grid(LawForm::kDense).size(), 4500u);
  // The bounds contain every start and Table 3.
  const Bounds b = fit_bounds(LawForm::kSparse);
  const Theta table3 =
      theta_from_coefficients(preset_law("abnar2025").coefficients, LawForm::kSparse);
  for (int k = 0; k < 10; ++k) {
    for (double v : grid.axes[k]) EXPECT_TRUE(v >= b.lower[k] && v <= b.upper[k]);
    EXPECT_TRUE(table3[k] > b.lower[k] && table3[k] < b.upper[k]);
  }
}

}  // namespace
}  // namespace moeplan::law
