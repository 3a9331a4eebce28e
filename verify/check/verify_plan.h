#pragma once
// What `verify` predicts for: the plan at the verify budget with the fitted law in the sweep's
// setup (vocabulary, context, top-k, granularity), sparsity bounded by the largest swept one;
// or a given architecture (`--plan`) described at that budget.
#include "law/scaling_law.h"
#include "planner/plan.h"
#include "verify/sweep/sweep_setup.h"

namespace moeplan::verify {

planner::PlanRequest verify_plan_request(const SweepSetup& setup, const law::ScalingLaw& law,
                                         double budget_flops, double max_sparsity);

// The planner's choice for the request (planner::make_plan).
planner::PlannedModel plan_verify_model(const planner::PlanRequest& request);

// A given architecture at the request's budget; throws Error when its vocabulary or context is
// not the sweep's (its loss would not be comparable).
planner::PlannedModel describe_given_model(const law::MoeArchitecture& architecture,
                                           const planner::PlanRequest& request);

}  // namespace moeplan::verify
