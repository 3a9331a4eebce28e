#pragma once
// `plan --export megatron`: the plan's architecture, recipe (DeepSeek-law batch and LR, the
// batch already a multiple of micro-batch x DP on a cluster) and parallel layout as Megatron-LM
// arguments, checked against Megatron-LM's own rules (planner/megatron_checks.h) before they
// are returned.
#include <string>

#include "planner/export.h"
#include "planner/plan.h"

namespace moeplan::planner {

// The DeepSeek-law recipe of the report, in the units Megatron-LM takes.
ExportRecipe megatron_recipe(const PlanResult& plan);

// Throws moeplan::Error when the arguments would break one of Megatron-LM's checks.
std::string megatron_args_for_plan(const PlanResult& plan);

}  // namespace moeplan::planner
