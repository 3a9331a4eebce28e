#include "planner/plan.h"

#include <cmath>
#include <sstream>

#include "law/flops.h"
#include "planner/architecture_search.h"
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
    if (r.cap.setup.devices > 1)
      s << ", " << r.cap.setup.devices << " devices, ZeRO-" << r.cap.setup.zero_stage;
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
    s << "any model with sparsity within " << r.sparsity_tolerance << " of " << r.target_sparsity;
    scope = s.str();
  }
  if (search.evaluated == 0) {
    if (r.mode == PlanMode::kFixedSparsity)
      fail("the search space has no architecture with sparsity within ", r.sparsity_tolerance,
           " of ", r.target_sparsity, " (S = 1 - K/E with E <= ", kMaxExperts,
           "): try a sparsity such as ",
           1.0 - 1.0 / std::max(1.0, std::round(1.0 / (1.0 - r.target_sparsity))));
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
  m.memory = law::memory_per_device(arch, r.cap.setup);
  return m;
}

PlanResult make_plan(const PlanRequest& request) {
  validate(request);
  PlanResult result;
  result.request = request;
  const PlanRequest& r = result.request;
  const bool dense = r.law.form == law::LawForm::kDense;

  const SearchResult search = search_architectures(r);
  if (!search.best) fail_nothing_feasible(r, search);
  result.architectures_evaluated = search.evaluated;
  result.architectures_feasible = search.feasible.size();

  // 1. The continuous optimum of the mode.
  const ContinuousProblem problem(r);
  std::optional<ContinuousOptimum> continuous;
  switch (r.mode) {
    case PlanMode::kOptimum:
      continuous = problem.optimum();
      break;
    case PlanMode::kFixedParams:
      continuous = problem.optimum_at_params(r.target_params);
      break;
    case PlanMode::kFixedSparsity:
      continuous = problem.optimum_at_sparsity(r.target_sparsity);
      break;
  }
  if (!continuous) {
    // The relaxation's memory differs slightly from the exact one, so a cap that a concrete
    // architecture meets can leave it nothing: fall back to the uncapped problem of the mode.
    switch (r.mode) {
      case PlanMode::kOptimum:
        continuous = problem.optimum(false);
        break;
      case PlanMode::kFixedParams:
        continuous = problem.optimum_at_params(r.target_params, false);
        break;
      case PlanMode::kFixedSparsity:
        continuous = problem.optimum_at_sparsity(r.target_sparsity, false);
        break;
    }
    if (!continuous) fail_nothing_feasible(r, search);
    result.notes.push_back(std::string("the continuous ") +
                           (r.mode == PlanMode::kOptimum ? "optimum" : "slice") +
                           " ignores the memory cap: in the relaxation no model of this mode fits "
                           "it, while a concrete architecture does");
  }
  result.continuous = *continuous;

  // 2. The concrete architecture.
  const Candidate& best = search.feasible[*search.best];
  result.chosen = describe_model(to_architecture(best, r), r);

  // 3. The alternatives.
  const std::vector<std::size_t> front = pareto_front(search.feasible);
  result.pareto_front_size = front.size();
  const auto rows =
      thin_front(search.feasible, front, *search.best, static_cast<std::size_t>(r.alternatives));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] == *search.best) result.alternatives_chosen_index = i;
    result.alternatives.push_back(describe_model(to_architecture(search.feasible[rows[i]], r), r));
  }

  const PlannedModel& m = result.chosen;
  const auto N = static_cast<double>(m.counts.total);
  result.loss_interval = law::predicted_loss_interval(r.law, N, m.tokens, m.sparsity);
  auto per_token = [&](law::FlopsMethod method) {
    return method == r.flops_method ? m.flops_per_token
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
  result.recipe = make_recipe(r.budget.flops, m.tokens, r.shape.context);
  result.domain_warnings = law::domain_warnings(r.law, r.budget.flops, N, m.tokens, m.sparsity);

  // Plain sentences about the constraints.
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
    s.str("");
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
  if (dense)
    result.notes.push_back("law '" + r.law.name +
                           "' is dense: sparsity is fixed at 0 and the architecture is dense "
                           "(E = K = G = 1)");
  if (r.mode == PlanMode::kFixedSparsity && std::fabs(m.sparsity - r.target_sparsity) > 1e-12) {
    s.str("");
    s << "the architecture's sparsity is " << m.sparsity << " (the nearest E/K to "
      << r.target_sparsity << ")";
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
  return result;
}

}  // namespace moeplan::planner
