#include "planner/plan.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "law/flops.h"
#include "planner/architecture_search.h"
#include "planner/next_steps.h"
#include "planner/pareto.h"
#include "util/error.h"
#include "util/units.h"

namespace moeplan::planner {
namespace {

std::string describe_cap(const PlanRequest& r) {
  std::ostringstream s;
  if (r.cap.bytes_per_device) {
    s << "the memory cap of " << format_bytes(*r.cap.bytes_per_device) << " per device ("
      << law::regime_name(r.cap.setup.regime);
    if (r.cap.cluster) s << ", " << r.cap.setup.devices << " GPUs, ZeRO-" << r.cap.setup.zero_stage;
    s << ")";
    if (r.cap.max_params) s << " and ";
  }
  if (r.cap.max_params) s << "--max-params " << format_count(*r.cap.max_params);
  return s.str();
}

[[noreturn]] void fail_nothing_feasible(const PlanRequest& r, const SearchResult& search) {
  std::string scope = "any model";
  if (r.mode == PlanMode::kFixedParams) {
    std::ostringstream s;
    s << "any model with N within " << r.params_tolerance * 100 << "% of "
      << format_count(r.target_params);
    scope = s.str();
  } else if (r.mode == PlanMode::kFixedSparsity) {
    std::ostringstream s;
    s << "any model with the sparsity nearest " << r.target_sparsity;
    scope = s.str();
  }
  if (search.evaluated == 0) {
    if (r.mode == PlanMode::kFixedSparsity)
      fail("the search space has no architecture with sparsity near ", r.target_sparsity,
           " (S = 1 - K/E with E <= ", kMaxExperts, "): relax --experts, --top-k or --granularity");
    if (r.mode == PlanMode::kFixedParams)
      fail("the search space has no architecture with N within ", r.params_tolerance * 100, "% of ",
           format_count(r.target_params), " (widen --params-tolerance or relax the overrides)");
    fail(
        "the search space is empty: check --d-model, --heads, --head-dim, --experts, --top-k, "
        "--granularity");
  }
  std::ostringstream need;
  need << "the smallest, " << law::describe(*search.smallest)
       << " (N = " << format_count(static_cast<double>(search.smallest_total_params)) << "), needs "
       << format_bytes(search.smallest_memory_bytes) << " per device";
  fail(describe_cap(r), " is too small for ", scope, ": ", need.str());
}

}  // namespace

PlannedModel describe_model(const law::MoeArchitecture& arch, const PlanRequest& r) {
  PlannedModel m;
  m.architecture = arch;
  m.counts = law::count_params(arch);
  m.sparsity = r.law.form == law::LawForm::kDense ? 0.0 : arch.sparsity();
  m.flops_per_token = law::flops_per_token(arch, m.counts, r.flops_method);
  m.tokens = r.budget.flops / m.flops_per_token;
  m.terms = law::loss_terms(r.law, static_cast<double>(m.counts.total), m.tokens, m.sparsity);
  m.loss = m.terms.total();
  if (!r.cap.cluster) {
    m.memory = law::memory_per_device(arch, r.cap.setup);
    return m;
  }
  const ShapeFacts shape = shape_facts(arch);
  const auto choice =
      choose_layout(*r.cap.cluster, tensor_pipeline_options(*r.cap.cluster, shape),
                    law::sharded_params(arch), arch.experts, r.cap.setup,
                    r.cap.bytes_per_device.value_or(std::numeric_limits<double>::infinity()));
  if (!choice)
    fail("no parallel layout of ", r.cap.setup.devices, " GPUs fits ", law::describe(arch));
  m.memory = choice->memory;
  m.layout = choice->degrees;
  return m;
}

double smallest_useful_budget(const PlanRequest& r) {
  const std::int64_t d = d_model_grid(r).front();
  const law::MoeArchitecture arch = law::make_paper_architecture(
      d, r.shape.n_layers.value_or(kMinLayers), 1, 1, 1, 1, r.shape.vocab_size, r.shape.context);
  return law::flops_per_token(arch, law::count_params(arch), r.flops_method) *
         static_cast<double>(r.shape.context);
}

namespace {

ContinuousOptimum solve_continuous(const ContinuousProblem& problem, PlanResult& result,
                                   const SearchResult& search) {
  const PlanRequest& r = result.request;
  auto solve = [&](bool respect_cap) -> std::optional<ContinuousOptimum> {
    switch (r.mode) {
      case PlanMode::kOptimum:
        return problem.optimum(respect_cap);
      case PlanMode::kFixedParams:
        return problem.optimum_at_params(r.target_params, respect_cap);
      case PlanMode::kFixedSparsity:
        return problem.optimum_at_sparsity(r.target_sparsity, respect_cap);
    }
    return std::nullopt;
  };
  if (auto continuous = solve(true)) return *continuous;
  // The relaxation's memory differs slightly from the exact one, so a cap that a concrete
  // architecture meets can leave it nothing: fall back to the uncapped problem of the mode.
  auto continuous = solve(false);
  if (!continuous) fail_nothing_feasible(r, search);
  result.notes.push_back(std::string("the continuous ") +
                         (r.mode == PlanMode::kOptimum ? "optimum" : "slice") +
                         " ignores the memory cap: in the relaxation no model of this mode fits "
                         "it, while a concrete architecture does");
  return *continuous;
}

void add_flops(PlanResult& result) {
  const PlannedModel& m = result.chosen;
  auto per_token = [&](law::FlopsMethod method) {
    return method == result.request.flops_method
               ? m.flops_per_token
               : law::flops_per_token(m.architecture, m.counts, method);
  };
  const double six_na = per_token(law::FlopsMethod::kSixNaD);
  const double eq9 = per_token(law::FlopsMethod::kEq9);
  const double eq9r = per_token(law::FlopsMethod::kEq9WithRouter);
  result.flops = {six_na,
                  eq9,
                  eq9r,
                  law::training_flops(six_na, m.tokens),
                  law::training_flops(eq9, m.tokens),
                  law::training_flops(eq9r, m.tokens)};
}

// On a cluster, Megatron needs the global batch to divide by micro-batch x DP: round it.
void fit_batch_to_layout(PlanResult& result) {
  const PlanRequest& r = result.request;
  if (!r.cap.cluster) return;
  const auto micro = static_cast<std::int64_t>(r.cap.setup.micro_batch);
  const int data = result.chosen.layout.data;
  const auto context = r.shape.context;
  for (BatchSchedule* b : {&result.recipe.deepseek, &result.recipe.paper}) {
    const std::int64_t sequences =
        megatron_global_batch(static_cast<double>(b->batch_sequences), micro, data);
    if (sequences != b->batch_sequences)
      *b = batch_schedule(static_cast<double>(sequences * context), result.chosen.tokens, context);
  }
}

void add_layout_sentence(PlanResult& result) {
  const PlanRequest& r = result.request;
  if (!r.cap.cluster) return;
  const law::ParallelDegrees& g = result.chosen.layout;
  std::string why = r.cap.cluster->fixed.any()
                        ? "the degrees not given by --tensor-parallel, --expert-parallel or "
                          "--pipeline-parallel are"
                        : "the layout is";
  result.notes.push_back(
      "parallel layout " + describe_layout(g) + ": " + why +
      " picked by the planner (the least tensor x pipeline parallelism under which a model fits, "
      "EP the largest divisor of E and DP); the shape meets Megatron-Core's rules for it, and "
      "the global batch divides by micro-batch x DP");
  if (r.cap.setup.zero_stage >= 2)
    result.notes.push_back("ZeRO-" + std::to_string(r.cap.setup.zero_stage) +
                           " shards the gradients" +
                           (r.cap.setup.zero_stage == 3 ? std::string(" and weights") : "") +
                           " over DP: in Megatron-LM that is the Megatron FSDP path "
                           "(--use-megatron-fsdp), which --export megatron writes");
}

void add_constraint_sentences(PlanResult& result, const ContinuousProblem& problem) {
  const PlanRequest& r = result.request;
  const bool dense = r.law.form == law::LawForm::kDense;
  const BindingConstraints& b = result.continuous.binding;
  std::ostringstream s;
  if (b.memory)
    result.warnings.push_back(
        describe_cap(r) +
        " binds: unconstrained, the law prefers S->1 and N->inf (paper §2.2), "
        "so the optimum is the largest model that fits");
  if (b.max_params)
    result.warnings.push_back(
        "--max-params " + format_count(*r.cap.max_params) +
        " binds: unconstrained, the law prefers S->1 and N->inf (paper §2.2)");
  if (b.max_sparsity && !dense) {
    s << "the maximum sparsity " << problem.max_sparsity()
      << " binds: the law would go sparser (--max-sparsity)";
    result.warnings.push_back(s.str());
  }
  if (b.min_sparsity && !dense) {
    s.str("");
    s << "the minimum sparsity " << problem.min_sparsity()
      << " binds: the law would prefer a denser model (--min-sparsity)";
    result.warnings.push_back(s.str());
  }
  if (!dense && r.mode == PlanMode::kOptimum && !r.cap.any()) {
    s.str("");
    s << "no memory cap given (--memory, --gpus with --gpu-memory, or --max-params): the problem "
         "is only well posed because of the sparsity bound S <= "
      << problem.max_sparsity() << "; the law prefers S->1 and N->inf (paper §2.2)";
    result.warnings.push_back(s.str());
  }
}

void add_mode_notes(PlanResult& result) {
  const PlanRequest& r = result.request;
  const PlannedModel& m = result.chosen;
  std::ostringstream s;
  if (r.law.form == law::LawForm::kDense)
    result.notes.push_back("law '" + r.law.name +
                           "' is dense: sparsity is fixed at 0 and the architecture is dense "
                           "(E = K = G = 1)");
  if (r.mode == PlanMode::kFixedSparsity) {
    const auto& a = m.architecture;
    s << "E " << a.experts << " K " << a.active_experts << " gives sparsity " << m.sparsity;
    if (std::fabs(m.sparsity - r.target_sparsity) > 1e-12)
      s << ", the nearest to the requested " << r.target_sparsity << " that E <= " << kMaxExperts
        << " and the granularities allow (no E/K gives it exactly)";
    else
      s << ", exactly the requested " << r.target_sparsity;
    result.notes.push_back(s.str());
  }
  if (r.mode == PlanMode::kFixedParams) {
    s.str("");
    const auto n = static_cast<double>(m.counts.total);
    s << "the model has N = " << format_count(n) << ", " << std::showpos
      << 100 * (n - r.target_params) / r.target_params << std::noshowpos << "% from the requested "
      << format_count(r.target_params) << " (--params-tolerance " << 100 * r.params_tolerance
      << "%); its predicted loss is " << m.loss;
    result.notes.push_back(s.str());
  }
  if (result.recipe.deepseek.floored)
    result.notes.push_back("the DeepSeek batch was shrunk to " +
                           std::to_string(result.recipe.deepseek.batch_sequences) +
                           " sequences to keep at least " + std::to_string(kMinSteps) +
                           " steps (recipe step floor)");
  if (r.flops_method != law::FlopsMethod::kSixNaD)
    result.notes.push_back("tokens use " + law::flops_method_name(r.flops_method) +
                           " FLOPs per token; the law was fitted with C = 6·N_a·D");
}

}  // namespace

PlanResult make_plan(const PlanRequest& request) {
  validate(request);
  const double smallest = smallest_useful_budget(request);
  if (request.budget.flops < smallest)
    fail("the budget ", format_sci(request.budget.flops),
         " FLOPs is too small for any model of at least one layer trained on one context of "
         "tokens: the smallest useful budget is ",
         format_sci(smallest), " FLOPs");
  PlanResult result;
  result.request = request;
  const PlanRequest& r = result.request;

  const SearchResult search = search_architectures(r);
  if (!search.best) fail_nothing_feasible(r, search);
  result.architectures_evaluated = search.evaluated;
  result.architectures_feasible = search.feasible_count;

  // 1. The continuous optimum of the mode.
  const ContinuousProblem problem(r);
  result.continuous = solve_continuous(problem, result, search);

  // 2. The concrete architecture.
  // On a cluster, under the tensor and pipeline parallelism the search settled on.
  const PlanRequest& searched = search.searched;
  result.chosen = describe_model(to_architecture(search.feasible[*search.best], r), searched);

  // 3. The alternatives.
  const std::vector<std::size_t> front = pareto_front(search.feasible);
  result.pareto_front_size = front.size();
  const auto rows =
      thin_front(search.feasible, front, *search.best, static_cast<std::size_t>(r.alternatives));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] == *search.best) result.alternatives_chosen_index = i;
    result.alternatives.push_back(
        describe_model(to_architecture(search.feasible[rows[i]], r), searched));
  }

  const PlannedModel& m = result.chosen;
  const auto N = static_cast<double>(m.counts.total);
  result.loss_interval = law::predicted_loss_interval(r.law, N, m.tokens, m.sparsity);
  add_flops(result);
  result.recipe = make_recipe(r.budget.flops, m.tokens, r.shape.context);
  fit_batch_to_layout(result);
  result.domain_warnings = law::domain_warnings(r.law, r.budget.flops, N, m.tokens, m.sparsity);
  add_constraint_sentences(result, problem);
  add_layout_sentence(result);
  add_mode_notes(result);
  result.next_steps = next_step_commands(result);
  return result;
}

}  // namespace moeplan::planner
