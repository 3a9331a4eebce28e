#include "verify/check/verify_plan.h"

#include "util/error.h"

namespace moeplan::verify {

planner::PlanRequest verify_plan_request(const SweepSetup& setup, const law::ScalingLaw& law,
                                         double budget_flops, double max_sparsity) {
  planner::PlanRequest request;
  request.law = law;
  request.budget.flops = budget_flops;
  request.budget.derivation = "given";
  request.shape.vocab_size = setup.vocab_size;
  request.shape.context = setup.context;
  request.overrides.top_k = setup.top_k;
  request.overrides.granularity = setup.granularity;
  request.max_sparsity = max_sparsity;
  planner::validate(request);
  return request;
}

planner::PlannedModel plan_verify_model(const planner::PlanRequest& request) {
  return planner::make_plan(request).chosen;
}

planner::PlannedModel describe_given_model(const law::MoeArchitecture& architecture,
                                           const planner::PlanRequest& request) {
  if (architecture.vocab_size != request.shape.vocab_size ||
      architecture.context != request.shape.context)
    fail("the plan's model (vocab ", architecture.vocab_size, ", context ", architecture.context,
         ") is not in the sweep's setup (vocab ", request.shape.vocab_size, ", context ",
         request.shape.context, ")");
  return planner::describe_model(architecture, request);
}

}  // namespace moeplan::verify
