// The planner's plan: Eq. 6 at the reported point, the budget, exact counts, the memory cap,
// dense laws and the one-line errors.
#include "planner/plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "law/architecture.h"
#include "law/flops.h"
#include "law/memory.h"
#include "law/presets.h"
#include "planner/architecture_search.h"
#include "planner/continuous_optimum.h"
#include "tests/support/plan_request.h"
#include "util/error.h"

namespace moeplan::planner {
namespace {

PlanRequest capped(double budget_flops, double gib_per_device, int devices = 1) {
  PlanRequest r = abnar_request(budget_flops);
  r.cap.bytes_per_device = gib_per_device * 1073741824.0;
  r.cap.setup.devices = devices;
  return r;
}

TEST(Plan, PredictedLossIsEq6AtReportedPoint) {
  for (double budget : {3e19, 1e21}) {
    const PlanResult plan = make_plan(capped(budget, 80, 8));
    const auto& m = plan.chosen;
    const auto N = static_cast<double>(m.counts.total);
    const law::Coefficients& k = plan.request.law.coefficients;
    const double S = m.sparsity, D = m.tokens;
    const double eq6 = k.a / std::pow(N, k.alpha) + k.b / std::pow(D, k.beta) +
                       k.c / std::pow(1 - S, k.lambda) +
                       k.d / (std::pow(1 - S, k.delta) * std::pow(N, k.gamma)) + k.e;
    EXPECT_NEAR(m.loss, eq6, 1e-12);
    EXPECT_NEAR(S,
                1.0 - static_cast<double>(m.architecture.active_experts) /
                          static_cast<double>(m.architecture.experts),
                1e-15);
  }
}

TEST(Plan, SixNaDEqualsTheBudget) {
  const PlanResult plan = make_plan(capped(1e21, 80, 8));
  const double c = 6.0 * static_cast<double>(plan.chosen.counts.active) * plan.chosen.tokens;
  EXPECT_NEAR(c / 1e21, 1.0, 0.005);
  EXPECT_NEAR(plan.flops.six_na_total / 1e21, 1.0, 0.005);
}

TEST(Plan, Eq9WhenAsked) {
  PlanRequest r = capped(1e21, 80, 8);
  r.flops_method = law::FlopsMethod::kEq9;
  const PlanResult plan = make_plan(r);
  const double c = law::eq9_flops_per_token(plan.chosen.architecture, false) * plan.chosen.tokens;
  EXPECT_NEAR(c / 1e21, 1.0, 0.005);
  EXPECT_NEAR(plan.flops.eq9_total / 1e21, 1.0, 0.005);
}

TEST(Plan, CountsMatchAppendixCFromTheArchitecture) {
  const PlanResult plan = make_plan(capped(1e20, 40, 4));
  const law::MoeArchitecture& a = plan.chosen.architecture;
  // App. C by hand: per layer 4d² + d·E + E·3·d·(4d/G) + 2d + 2·head_dim; 2·V·d + d.
  const std::int64_t d = a.d_model, L = a.n_layers, E = a.experts, K = a.active_experts;
  const std::int64_t h = 4 * d / a.granularity;
  ASSERT_EQ(a.expert_hidden, h);
  const std::int64_t shared =
      L * (4 * d * d + d * E + 2 * d + 2 * a.head_dim()) + 2 * a.vocab_size * d + d;
  EXPECT_EQ(plan.chosen.counts.total, shared + L * E * 3 * d * h);
  EXPECT_EQ(plan.chosen.counts.active, shared + L * K * 3 * d * h);
  EXPECT_EQ(plan.chosen.counts.total, law::count_params(a).total);
  EXPECT_EQ(a.n_heads * a.head_dim(), a.d_model);
}

TEST(Plan, MemoryCapHolds) {
  for (double gib : {2.0, 10.0, 80.0}) {
    PlanRequest r = capped(1e21, gib, 8);
    const PlanResult plan = make_plan(r);
    EXPECT_LE(law::memory_per_device(plan.chosen.architecture, r.cap.setup).per_device_bytes(),
              gib * 1073741824.0);
    for (const auto& alt : plan.alternatives)
      EXPECT_LE(alt.memory.per_device_bytes(), gib * 1073741824.0);
  }
  PlanRequest r = abnar_request(1e21);
  r.cap.max_params = 2e9;
  const PlanResult plan = make_plan(r);
  EXPECT_LE(plan.chosen.counts.total, 2e9);
  EXPECT_TRUE(plan.continuous.binding.max_params);
}

TEST(Plan, BindingCapIsSaidPlainly) {
  const PlanResult plan = make_plan(capped(1e21, 80, 8));
  EXPECT_TRUE(plan.continuous.binding.memory);
  bool said = false;
  for (const auto& w : plan.warnings)
    said |= w.find("memory cap") != std::string::npos && w.find("binds") != std::string::npos;
  EXPECT_TRUE(said);
}

TEST(Plan, NoCapWarnsThatOnlyTheSparsityBoundHolds) {
  const PlanResult plan = make_plan(abnar_request(1e20));
  EXPECT_TRUE(plan.continuous.binding.max_sparsity);
  bool said = false;
  for (const auto& w : plan.warnings) said |= w.find("no memory cap") != std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_NEAR(plan.chosen.sparsity, 0.98, 0.005);
}

TEST(Plan, DomainWarningsNameEveryQuantityOutside) {
  const PlanResult plan = make_plan(capped(1e23, 80, 64));
  std::set<std::string> quantities;
  for (const auto& w : plan.domain_warnings) quantities.insert(w.quantity);
  EXPECT_TRUE(quantities.count("budget_flops"));
  EXPECT_TRUE(quantities.count("total_params"));
  EXPECT_TRUE(make_plan(capped(1e20, 40, 1)).domain_warnings.empty());
}

TEST(Plan, DenseLawGivesADenseModel) {
  PlanRequest r = capped(1e21, 80, 8);
  r.law = law::preset_law("hoffmann2022");
  const PlanResult plan = make_plan(r);
  EXPECT_EQ(plan.chosen.architecture.experts, 1);
  EXPECT_EQ(plan.chosen.architecture.active_experts, 1);
  EXPECT_EQ(plan.chosen.architecture.granularity, 1);
  EXPECT_EQ(plan.chosen.sparsity, 0.0);
  EXPECT_EQ(plan.chosen.counts.total, plan.chosen.counts.active);
  ASSERT_FALSE(plan.notes.empty());
  EXPECT_NE(plan.notes[0].find("dense"), std::string::npos);
}

TEST(Plan, OverridesPinTheArchitecture) {
  PlanRequest r = capped(1e20, 80, 8);
  r.overrides.granularity = 4;
  r.overrides.top_k = 2;
  r.shape.n_layers = 10;
  const PlanResult plan = make_plan(r);
  EXPECT_EQ(plan.chosen.architecture.granularity, 4);
  EXPECT_EQ(plan.chosen.architecture.active_experts, 2);
  EXPECT_EQ(plan.chosen.architecture.n_layers, 10);
  r.overrides.d_model = 1024;
  EXPECT_EQ(make_plan(r).chosen.architecture.d_model, 1024);
}

TEST(Plan, AlternativesIncludeTheChosenAndAreFeasible) {
  const PlanResult plan = make_plan(capped(1e21, 80, 8));
  ASSERT_FALSE(plan.alternatives.empty());
  EXPECT_LE(plan.alternatives.size(), 10u);
  const auto& chosen = plan.alternatives[plan.alternatives_chosen_index];
  EXPECT_EQ(chosen.counts.total, plan.chosen.counts.total);
  for (const auto& alt : plan.alternatives) EXPECT_GE(alt.loss, plan.chosen.loss - 1e-9);
}

// Caps from the smallest concrete model's need upward: every one a concrete architecture meets.
std::vector<PlanRequest> caps_near_the_smallest_model(PlanRequest r) {
  r.cap.bytes_per_device = 1.0;  // nothing fits: the search still reports the smallest model
  const double need = search_architectures(r).smallest_memory_bytes;
  std::vector<PlanRequest> requests;
  for (int i = 0; i < 30; ++i) {
    r.cap.bytes_per_device = need * std::pow(1.05, i);
    requests.push_back(r);
  }
  return requests;
}

// A feasible concrete architecture always gives a plan (the continuous relaxation, whose memory
// differs slightly from the exact count, must not veto it), and the plan meets the cap.
void expect_plan_wherever_a_concrete_model_fits(const PlanRequest& base) {
  for (const PlanRequest& r : caps_near_the_smallest_model(base)) {
    const PlanResult plan = make_plan(r);
    EXPECT_LE(plan.chosen.memory.per_device_bytes(), *r.cap.bytes_per_device);
    EXPECT_GT(plan.continuous.point.loss, 0);
  }
}

// A cap too small for the relaxation: no continuous point (not an exception), and the uncapped
// problem still has its optimum (make_plan's fallback).
void expect_no_continuous_point_under_a_tiny_cap(PlanRequest r) {
  r.cap.bytes_per_device = 1.0;
  const ContinuousProblem problem(r);
  EXPECT_FALSE(problem.optimum().has_value());
  const auto uncapped = problem.optimum(false);
  ASSERT_TRUE(uncapped.has_value());
  EXPECT_GT(uncapped->point.total_params, problem.min_params());
  EXPECT_FALSE(uncapped->binding.memory);
  EXPECT_GE(uncapped->point.sparsity, problem.min_sparsity() - 1e-12);
  EXPECT_LE(uncapped->point.sparsity, problem.max_sparsity() + 1e-12);
}

// A cap below the smallest concrete model stays the one-line error.
void expect_one_line_error_under_a_tiny_cap(PlanRequest r) {
  r.cap.bytes_per_device = 1e6;
  try {
    make_plan(r);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("too small"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

TEST(Plan, FeasibleConcreteModelAlwaysGivesAPlanInOptimumMode) {
  expect_plan_wherever_a_concrete_model_fits(abnar_request(1e19));
  expect_no_continuous_point_under_a_tiny_cap(abnar_request(1e19));
  expect_one_line_error_under_a_tiny_cap(abnar_request(1e19));
}

TEST(Plan, EqualSparsityBoundsGiveAPlan) {
  PlanRequest r = capped(1e21, 80, 8);
  r.min_sparsity = r.max_sparsity = 0.5;
  const PlanResult plan = make_plan(r);
  EXPECT_NEAR(plan.continuous.point.sparsity, 0.5, 1e-12);
  EXPECT_NEAR(plan.chosen.sparsity, 0.5, 1e-12);
  PlanRequest tight = abnar_request(1e19);
  tight.min_sparsity = tight.max_sparsity = 0.5;
  expect_plan_wherever_a_concrete_model_fits(tight);
  expect_no_continuous_point_under_a_tiny_cap(tight);
  expect_one_line_error_under_a_tiny_cap(tight);
}

TEST(Plan, DenseLawUnderATightCapGivesAPlan) {
  PlanRequest r = abnar_request(1e19);
  r.law = law::preset_law("hoffmann2022");
  expect_plan_wherever_a_concrete_model_fits(r);
  expect_no_continuous_point_under_a_tiny_cap(r);
  expect_one_line_error_under_a_tiny_cap(r);
}

TEST(PlanErrors, CapTooSmallNamesCapAndNeed) {
  try {
    make_plan(capped(1e21, 0.01));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("too small"), std::string::npos) << m;
    EXPECT_NE(m.find("needs"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
}

TEST(PlanErrors, BadRequestsThrow) {
  PlanRequest r = abnar_request(1e21);
  r.min_sparsity = 0.9;
  r.max_sparsity = 0.5;
  EXPECT_THROW(make_plan(r), Error);
  r = abnar_request(-1);
  EXPECT_THROW(make_plan(r), Error);
  r = abnar_request(std::nan(""));
  EXPECT_THROW(make_plan(r), Error);
  r = abnar_request(1e21);
  r.mode = PlanMode::kFixedSparsity;
  r.target_sparsity = 0.9;
  r.law = law::preset_law("epoch2024");
  EXPECT_THROW(make_plan(r), Error);
}

}  // namespace
}  // namespace moeplan::planner
