// The planner's parts: shape rule, continuous optimum, Pareto front, budget, recipe.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "law/architecture.h"
#include "law/flops.h"
#include "law/presets.h"
#include "planner/budget.h"
#include "planner/continuous_optimum.h"
#include "planner/pareto.h"
#include "planner/recipe.h"
#include "planner/shape_rule.h"
#include "util/error.h"

namespace moeplan::planner {
namespace {

TEST(ShapeRule, ContinuousCountEqualsExactCountOnWholeShapes) {
  const ShapeRule rule;
  for (std::int64_t d : {512, 1024, 2048}) {
    const ContinuousShape s = continuous_shape_at_width(static_cast<double>(d), 0.75, rule);
    const auto arch = law::make_paper_architecture(d, d / 128, d / (d >= 1024 ? 128 : 64), 4, 1, 1,
                                                   rule.vocab_size, rule.context);
    const law::ParamCounts c = law::count_params(arch);
    EXPECT_NEAR(s.total_params, static_cast<double>(c.total), 1e-6 * c.total);
    EXPECT_NEAR(s.active_params, static_cast<double>(c.active), 1e-6 * c.active);
    EXPECT_NEAR(continuous_flops_per_token(s, rule, law::FlopsMethod::kEq9),
                law::eq9_flops_per_token(arch, false),
                1e-6 * law::eq9_flops_per_token(arch, false));
    EXPECT_NEAR(continuous_flops_per_token(s, rule, law::FlopsMethod::kEq9WithRouter),
                law::eq9_flops_per_token(arch, true), 1e-6 * law::eq9_flops_per_token(arch, true));
  }
}

TEST(ShapeRule, SolvesWidthForACount) {
  const ShapeRule rule;
  for (double n : {1e8, 3e9, 1e11}) {
    const ContinuousShape s = continuous_shape(n, 0.9, rule);
    EXPECT_NEAR(s.total_params / n, 1.0, 1e-9);
    EXPECT_NEAR(s.n_layers, s.d_model / 128, 1e-9);
  }
  EXPECT_EQ(rule.discrete_layers(64), 2);
  EXPECT_EQ(rule.discrete_layers(2048), 16);
}

TEST(ContinuousOptimum, NoWorseThanAFineGrid) {
  PlanRequest r;
  r.law = law::preset_law("abnar2025");
  r.budget.flops = 1e21;
  r.cap.bytes_per_device = 64 * 1073741824.0;
  const ContinuousProblem problem(r);
  const ContinuousOptimum o = problem.optimum().value();
  double grid_best = 1e9;
  for (int i = 0; i <= 98; ++i) {
    const double s = 0.98 * i / 98;
    const double n_max = problem.max_params(s);
    for (int j = 0; j <= 200; ++j) {
      const double n = std::exp(std::log(1e7) + (std::log(n_max) - std::log(1e7)) * j / 200);
      grid_best = std::min(grid_best, problem.at(n, s).loss);
    }
  }
  EXPECT_LE(o.point.loss, grid_best + 1e-9);
  EXPECT_TRUE(problem.fits(o.point.total_params * (1 - 1e-6), o.point.sparsity));
  EXPECT_TRUE(o.binding.memory);
  // D = C / (6·N_a) in the relaxation too.
  EXPECT_NEAR(6 * o.point.active_params * o.point.tokens / 1e21, 1.0, 1e-9);
}

TEST(ContinuousOptimum, MaxParamsGrowsWithTheCap) {
  PlanRequest r;
  r.law = law::preset_law("abnar2025");
  r.budget.flops = 1e21;
  double previous = 0;
  for (double gib : {4.0, 16.0, 64.0}) {
    r.cap.bytes_per_device = gib * 1073741824.0;
    const double n = ContinuousProblem(r).max_params(0.9);
    EXPECT_GT(n, previous);
    previous = n;
  }
}

TEST(Pareto, FrontIsExactlyTheNonDominatedSet) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> loss(2, 3);
  std::uniform_int_distribution<std::int64_t> count(1, 40);
  std::vector<Candidate> c(300);
  for (auto& x : c) {
    x.loss = std::round(loss(rng) * 20) / 20;
    x.active_params = count(rng);
    x.total_params = x.active_params + count(rng);
  }
  const auto front = pareto_front(c);
  auto dominates = [](const Candidate& a, const Candidate& b) {
    const bool no_worse =
        a.loss <= b.loss && a.active_params <= b.active_params && a.total_params <= b.total_params;
    const bool better =
        a.loss < b.loss || a.active_params < b.active_params || a.total_params < b.total_params;
    return no_worse && better;
  };
  std::vector<bool> on_front(c.size(), false);
  for (auto i : front) on_front[i] = true;
  for (std::size_t i = 0; i < c.size(); ++i) {
    bool dominated = false;
    for (std::size_t j = 0; j < c.size(); ++j) dominated |= dominates(c[j], c[i]);
    if (on_front[i]) {
      EXPECT_FALSE(dominated) << i;
    }
    // A non-dominated point is on the front unless an identical point already is.
    if (!dominated && !on_front[i]) {
      bool duplicate = false;
      for (auto k : front)
        duplicate |= c[k].loss == c[i].loss && c[k].active_params == c[i].active_params &&
                     c[k].total_params == c[i].total_params;
      EXPECT_TRUE(duplicate) << i;
    }
  }
  const std::size_t chosen = front[front.size() / 2];
  const auto rows = thin_front(c, front, chosen, 5);
  EXPECT_LE(rows.size(), 5u);
  EXPECT_NE(std::find(rows.begin(), rows.end(), chosen), rows.end());
}

TEST(Budget, FromGpuHours) {
  BudgetInput in;
  in.gpu_hours = 1000;
  in.gpu = "h100";
  const Budget b = resolve_budget(in);
  EXPECT_DOUBLE_EQ(b.flops, 1000 * 3600.0 * 989e12 * 0.4);
  EXPECT_NE(b.derivation.find("h100"), std::string::npos);
  in.gpu.reset();
  in.gpu_flops = 1e15;
  in.mfu = 0.5;
  EXPECT_DOUBLE_EQ(resolve_budget(in).flops, 1000 * 3600.0 * 1e15 * 0.5);
  in.gpu = "h1000";
  EXPECT_THROW(resolve_budget(in), Error);
  EXPECT_THROW(resolve_budget(BudgetInput{}), Error);
  BudgetInput negative;
  negative.flops = -5;
  EXPECT_THROW(resolve_budget(negative), Error);
}

TEST(Recipe, DeepSeekLawsAndSchedule) {
  const Recipe r = make_recipe(1e21, 1.5e11, 2048);
  EXPECT_NEAR(r.deepseek_batch_tokens, 0.2920 * std::pow(1e21, 0.3271), 1e-6);
  EXPECT_NEAR(r.deepseek_peak_lr, 0.3118 * std::pow(1e21, -0.1250), 1e-15);
  EXPECT_EQ(r.paper.batch_sequences, 1024);
  EXPECT_EQ(r.paper.steps, static_cast<std::int64_t>(std::ceil(1.5e11 / 2097152.0)));
  EXPECT_EQ(r.paper.warmup_steps, static_cast<std::int64_t>(std::ceil(0.05 * r.paper.steps)));
  EXPECT_DOUBLE_EQ(r.final_lr_fraction, 0.1);
}

}  // namespace
}  // namespace moeplan::planner
