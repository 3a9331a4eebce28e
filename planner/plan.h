#pragma once
// SPEC §3: the plan. Continuous optimum, then the concrete architecture from the global
// discrete search, then the Pareto alternatives; everything a report or an exporter
// (planner/export.h: Hugging Face config, Megatron arguments) needs.
#include <optional>
#include <string>
#include <vector>

#include "law/architecture.h"
#include "law/memory.h"
#include "law/scaling_law.h"
#include "law/sharded_memory.h"
#include "planner/continuous_optimum.h"
#include "planner/plan_request.h"
#include "planner/recipe.h"

namespace moeplan::planner {

// A concrete model with everything the report states about it.
struct PlannedModel {
  law::MoeArchitecture architecture;
  law::ParamCounts counts;  // exact, law::count_params
  double sparsity = 0;
  double tokens = 0;  // D = C / flops_per_token (by the request's FLOPs method)
  double loss = 0;    // Eq. 6 at (N, D, S)
  law::LossTerms terms;
  double flops_per_token = 0;
  law::MemoryBreakdown memory;  // per device
  law::ParallelDegrees layout;  // on a cluster (--gpus); all 1 otherwise
};

// The budget's FLOPs by each counting, for the chosen model at its D.
struct FlopsSummary {
  double six_na_per_token = 0, eq9_per_token = 0, eq9_router_per_token = 0;
  double six_na_total = 0, eq9_total = 0, eq9_router_total = 0;  // × D
};

struct PlanResult {
  PlanRequest request;
  ContinuousOptimum continuous;  // of the mode: global, S*(N) or N*(S)
  PlannedModel chosen;
  std::optional<law::Range> loss_interval;  // bootstrap 90% interval, when the law has samples
  FlopsSummary flops;
  Recipe recipe;
  std::vector<PlannedModel> alternatives;  // thinned Pareto front, sorted by active params
  std::size_t alternatives_chosen_index = 0;
  std::size_t pareto_front_size = 0;
  std::size_t architectures_evaluated = 0;
  std::size_t architectures_feasible = 0;
  std::vector<law::DomainWarning> domain_warnings;  // of the chosen model, term by term
  std::vector<std::string> warnings;                // plain sentences (constraints, mode)
  std::vector<std::string> notes;
  std::vector<std::string> next_steps;  // commands that check the plan (planner/next_steps.h)
};

// Throws moeplan::Error with a one-line message when nothing is feasible.
PlanResult make_plan(const PlanRequest& request);

// The smallest budget worth planning: the smallest model of the search space (d_model 64,
// kMinLayers layers, dense) trained on one context of tokens.
double smallest_useful_budget(const PlanRequest& request);

// Builds the full record of one architecture (counts, D, loss, memory) for `request`; on a
// cluster, under the layout planner/parallel_layout.h picks (or the flags fix).
PlannedModel describe_model(const law::MoeArchitecture& architecture, const PlanRequest& request);

}  // namespace moeplan::planner
