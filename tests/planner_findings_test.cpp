// The paper's findings, reproduced by the planner with the abnar2025 preset:
// a larger memory cap never predicts a higher loss and moves the optimum to higher sparsity and
// more total parameters; at fixed N, S* rises with N and falls as C grows, and small models at
// large budgets are dense (§2.2, App. D.2); at fixed S, N* rises and N_a* falls as S grows (§2.1).
#include <gtest/gtest.h>

#include <vector>

#include "law/presets.h"
#include "planner/continuous_optimum.h"
#include "planner/plan.h"
#include "tests/support/plan_request.h"

namespace moeplan::planner {
namespace {

TEST(Findings, LargerCapNeverPredictsHigherLossAndGoesSparserAndBigger) {
  for (double budget : {1e20, 1e21, 1e22}) {
    double previous_loss = 1e9, previous_sparsity = -1, previous_params = 0;
    for (double gib : {2.0, 8.0, 32.0, 128.0, 512.0}) {
      PlanRequest r = abnar_request(budget);
      r.cap.bytes_per_device = gib * 1073741824.0;
      const PlanResult plan = make_plan(r);
      SCOPED_TRACE(testing::Message() << "C " << budget << ", cap " << gib << " GiB");
      EXPECT_LE(plan.chosen.loss, previous_loss + 1e-12);
      EXPECT_GE(plan.chosen.sparsity, previous_sparsity - 1e-12);
      EXPECT_GE(static_cast<double>(plan.chosen.counts.total), previous_params);
      EXPECT_GE(plan.continuous.point.sparsity, 0.0);
      previous_loss = plan.chosen.loss;
      previous_sparsity = plan.chosen.sparsity;
      previous_params = static_cast<double>(plan.chosen.counts.total);
    }
  }
}

TEST(Findings, AtFixedNOptimalSparsityRisesWithN) {
  for (double budget : {1e20, 1e21}) {
    double previous_continuous = -1, previous_discrete = -1;
    for (double n : {3e8, 1e9, 3e9, 1e10}) {
      PlanRequest r = abnar_request(budget);
      r.mode = PlanMode::kFixedParams;
      r.target_params = n;
      const PlanResult plan = make_plan(r);
      SCOPED_TRACE(testing::Message() << "C " << budget << ", N " << n);
      EXPECT_NEAR(static_cast<double>(plan.chosen.counts.total) / n, 1.0, 0.05);
      EXPECT_GE(plan.continuous.point.sparsity, previous_continuous);
      EXPECT_GE(plan.chosen.sparsity, previous_discrete - 0.02);  // the discrete E/K grid
      previous_continuous = plan.continuous.point.sparsity;
      previous_discrete = plan.chosen.sparsity;
    }
    EXPECT_GT(previous_continuous, 0.9);
  }
}

TEST(Findings, AtFixedNOptimalSparsityFallsAsBudgetGrows) {
  for (double n : {1e9, 3e9}) {
    double previous = 2;
    for (double budget : {3e19, 1e20, 1e21, 1e22}) {
      PlanRequest r = abnar_request(budget);
      r.mode = PlanMode::kFixedParams;
      r.target_params = n;
      const PlanResult plan = make_plan(r);
      SCOPED_TRACE(testing::Message() << "C " << budget << ", N " << n);
      EXPECT_LT(plan.continuous.point.sparsity, previous);
      previous = plan.continuous.point.sparsity;
    }
  }
}

TEST(Findings, SmallModelsAtLargeBudgetsAreDense) {
  for (double budget : {1e21, 1e22}) {
    for (double n : {1e8, 3e8}) {
      PlanRequest r = abnar_request(budget);
      r.mode = PlanMode::kFixedParams;
      r.target_params = n;
      const PlanResult plan = make_plan(r);
      SCOPED_TRACE(testing::Message() << "C " << budget << ", N " << n);
      EXPECT_EQ(plan.continuous.point.sparsity, 0.0);
      EXPECT_EQ(plan.chosen.sparsity, 0.0);
      EXPECT_EQ(plan.chosen.architecture.experts, 1);
    }
  }
}

TEST(Findings, AtFixedSparsityOptimalNRisesAndActiveFalls) {
  for (double budget : {1e20, 1e21}) {
    double previous_n = 0, previous_active = 1e300, previous_discrete_n = 0;
    for (double s : {0.5, 0.75, 0.875, 0.9375, 0.96875}) {
      PlanRequest r = abnar_request(budget);
      r.mode = PlanMode::kFixedSparsity;
      r.target_sparsity = s;
      const PlanResult plan = make_plan(r);
      SCOPED_TRACE(testing::Message() << "C " << budget << ", S " << s);
      EXPECT_NEAR(plan.chosen.sparsity, s, 0.005 + 1e-12);
      EXPECT_GT(plan.continuous.point.total_params, previous_n);
      EXPECT_LT(plan.continuous.point.active_params, previous_active);
      EXPECT_GT(static_cast<double>(plan.chosen.counts.total), previous_discrete_n);
      previous_n = plan.continuous.point.total_params;
      previous_active = plan.continuous.point.active_params;
      previous_discrete_n = static_cast<double>(plan.chosen.counts.total);
    }
  }
}

TEST(Findings, AtFixedBudgetLossFallsWithSparsity) {
  // Fig. 3: at the optimum for each S, more sparsity gives a lower loss.
  double previous = 1e9;
  for (double s : {0.0, 0.5, 0.75, 0.875, 0.9375}) {
    PlanRequest r = abnar_request(1e20);
    r.mode = PlanMode::kFixedSparsity;
    r.target_sparsity = s;
    const double loss = ContinuousProblem(r).optimum_at_sparsity(s)->point.loss;
    EXPECT_LT(loss, previous);
    previous = loss;
  }
}

}  // namespace
}  // namespace moeplan::planner
