#include "planner/plan_request.h"

#include <cmath>

#include "util/error.h"
#include "util/text.h"

namespace moeplan::planner {

const char* plan_mode_name(PlanMode mode) {
  switch (mode) {
    case PlanMode::kOptimum:
      return "optimum";
    case PlanMode::kFixedParams:
      return "params";
    case PlanMode::kFixedSparsity:
      return "sparsity";
  }
  return "?";
}

void validate(const PlanRequest& r) {
  law::validate(r.law);
  if (!(r.budget.flops > 0) || !std::isfinite(r.budget.flops))
    fail("the budget must be a positive number of FLOPs, got ", r.budget.flops);
  auto in_unit = [](double s) { return std::isfinite(s) && s >= 0 && s < 1; };
  if (!in_unit(r.min_sparsity)) fail("--min-sparsity must be in [0, 1), got ", r.min_sparsity);
  if (!in_unit(r.max_sparsity)) fail("--max-sparsity must be in [0, 1), got ", r.max_sparsity);
  if (r.min_sparsity > r.max_sparsity)
    fail("--min-sparsity ", r.min_sparsity, " is above --max-sparsity ", r.max_sparsity);
  if (!(r.shape.aspect_ratio > 0) || !std::isfinite(r.shape.aspect_ratio))
    fail("--aspect-ratio must be positive, got ", r.shape.aspect_ratio);
  if (r.shape.n_heads && r.shape.head_dim) fail("--heads and --head-dim cannot be used together");
  if (r.shape.head_dim && *r.shape.head_dim % 2 != 0)
    fail("--head-dim must be even (RoPE), got ", *r.shape.head_dim);
  if (r.cap.bytes_per_device && !(*r.cap.bytes_per_device > 0))
    fail("the memory cap must be positive");
  if (r.cap.max_params && !(*r.cap.max_params > 0)) fail("--max-params must be positive");
  const auto& o = r.overrides;
  if (o.granularity && (*o.granularity < 1 || *o.granularity > 64))
    fail("--granularity must be in [1, 64], got ", *o.granularity);
  if (o.top_k && o.experts && *o.top_k > *o.experts)
    fail("--top-k ", *o.top_k, " is above --experts ", *o.experts);
  if (o.d_model && *o.d_model % 2 != 0) fail("--d-model must be even, got ", *o.d_model);
  const bool dense = r.law.form == law::LawForm::kDense;
  if (dense && ((o.experts && *o.experts != 1) || (o.top_k && *o.top_k != 1) ||
                (o.granularity && *o.granularity != 1)))
    fail("law ", quoted_excerpt(r.law.name),
         " is dense: --experts, --top-k and --granularity must be 1");
  if (r.mode == PlanMode::kFixedParams) {
    if (!(r.target_params > 0)) fail("--params must be positive");
    if (!(r.params_tolerance > 0 && r.params_tolerance < 1))
      fail("--params-tolerance must be in (0, 1), got ", r.params_tolerance);
  }
  if (r.mode == PlanMode::kFixedSparsity) {
    if (dense) fail("law ", quoted_excerpt(r.law.name), " is dense: --sparsity does not apply");
    if (!in_unit(r.target_sparsity)) fail("--sparsity must be in [0, 1), got ", r.target_sparsity);
  }
  if (r.alternatives < 1) fail("--alternatives must be at least 1");
}

double effective_min_sparsity(const PlanRequest& r) {
  return r.law.form == law::LawForm::kDense ? 0.0 : r.min_sparsity;
}

double effective_max_sparsity(const PlanRequest& r) {
  return r.law.form == law::LawForm::kDense ? 0.0 : r.max_sparsity;
}

}  // namespace moeplan::planner
