#pragma once
// The planner tests' starting request: the abnar2025 law and a given FLOP budget, every other
// setting at its default.
#include "law/presets.h"
#include "planner/plan_request.h"

namespace moeplan::planner {

inline PlanRequest abnar_request(double budget_flops) {
  PlanRequest r;
  r.law = law::preset_law("abnar2025");
  r.budget.flops = budget_flops;
  r.budget.derivation = "given";
  return r;
}

}  // namespace moeplan::planner
