#include "planner/architecture_search.h"

#include <cmath>

#include "law/flops.h"
#include "law/memory.h"
#include "law/scaling_law.h"

namespace moeplan::planner {
namespace {

// Head width for a discrete d_model, or 0 when the rule cannot be met.
std::int64_t head_dim_for(std::int64_t d, const ShapeRule& rule) {
  std::int64_t head_dim = 0;
  if (rule.head_dim) {
    head_dim = *rule.head_dim;
  } else if (rule.n_heads) {
    if (*rule.n_heads <= 0 || d % *rule.n_heads != 0) return 0;
    head_dim = d / *rule.n_heads;
  } else {
    head_dim = d >= 1024 ? 128 : 64;
  }
  if (head_dim <= 0 || d % head_dim != 0 || head_dim % 2 != 0) return 0;
  return head_dim;
}

}  // namespace

std::vector<std::int64_t> d_model_grid(const PlanRequest& request) {
  if (request.overrides.d_model) return {*request.overrides.d_model};
  std::vector<std::int64_t> grid;
  for (std::int64_t d = 64; d < 1024; d += 64) grid.push_back(d);
  for (std::int64_t d = 1024; d <= kMaxDModel; d += 128) grid.push_back(d);
  return grid;
}

bool better_candidate(const Candidate& a, const Candidate& b) {
  if (std::fabs(a.rank - b.rank) < kLossTie) return a.active_params < b.active_params;
  return a.rank < b.rank;
}

law::MoeArchitecture to_architecture(const Candidate& c, const PlanRequest& request) {
  return law::make_paper_architecture(c.d_model, c.n_layers, c.n_heads, c.experts, c.top_k,
                                      c.granularity, request.shape.vocab_size,
                                      request.shape.context);
}

SearchResult search_architectures(const PlanRequest& request) {
  SearchResult result;
  const bool dense = request.law.form == law::LawForm::kDense;
  const auto& o = request.overrides;
  std::vector<std::int64_t> granularities = {1, 2, 4, 8};
  if (o.granularity) granularities = {*o.granularity};
  if (dense) granularities = {1};

  double s_lo = effective_min_sparsity(request), s_hi = effective_max_sparsity(request);
  if (request.mode == PlanMode::kFixedSparsity) {
    s_lo = request.target_sparsity - request.sparsity_tolerance;
    s_hi = request.target_sparsity + request.sparsity_tolerance;
  }
  const double n_lo = request.target_params * (1 - request.params_tolerance);
  const double n_hi = request.target_params * (1 + request.params_tolerance);
  const double cap_bytes =
      request.cap.bytes_per_device.value_or(std::numeric_limits<double>::infinity());
  const double cap_params =
      request.cap.max_params.value_or(std::numeric_limits<double>::infinity());
  const double budget = request.budget.flops;

  for (const std::int64_t d : d_model_grid(request)) {
    const std::int64_t head_dim = head_dim_for(d, request.shape);
    if (head_dim == 0) continue;
    const std::int64_t layers = request.shape.discrete_layers(d);
    const std::int64_t heads = d / head_dim;
    for (const std::int64_t g : granularities) {
      if ((4 * d) % g != 0) continue;
      const std::int64_t k = dense ? 1 : o.top_k.value_or(g);
      const std::int64_t e_first = o.experts ? *o.experts : k;
      const std::int64_t e_last = dense ? 1 : (o.experts ? *o.experts : kMaxExperts);
      if (e_first < k) continue;
      for (std::int64_t e = e_first; e <= e_last; ++e) {
        // All experts active is the dense computation: keep only E = K = G = 1 for it.
        if (e == k && g > 1 && !o.experts && !o.top_k) continue;
        const double s = 1.0 - static_cast<double>(k) / static_cast<double>(e);
        if (s < s_lo - 1e-12) continue;
        if (s > s_hi + 1e-12) break;  // S grows with E
        const law::MoeArchitecture arch = law::make_paper_architecture(
            d, layers, heads, e, k, g, request.shape.vocab_size, request.shape.context);
        const law::ParamCounts counts = law::count_params(arch);
        const auto n = static_cast<double>(counts.total);
        if (request.mode == PlanMode::kFixedParams) {
          if (n < n_lo) continue;
          if (n > n_hi) break;  // N grows with E
        }
        ++result.evaluated;
        const double memory =
            law::memory_per_device(n, static_cast<double>(layers), static_cast<double>(d),
                                   static_cast<double>(heads),
                                   static_cast<double>(request.shape.context), request.cap.setup)
                .per_device_bytes();
        if (!result.smallest || memory < result.smallest_memory_bytes) {
          result.smallest = arch;
          result.smallest_memory_bytes = memory;
          result.smallest_total_params = counts.total;
        }
        if (memory > cap_bytes || n > cap_params) break;  // memory and N grow with E
        const double flops_per_token = law::flops_per_token(arch, counts, request.flops_method);
        Candidate c;
        c.tokens = budget / flops_per_token;
        c.loss = law::predict_loss(request.law, n, c.tokens, dense ? 0.0 : s);
        c.rank = c.loss;
        if (request.mode == PlanMode::kFixedParams) {
          const double scale = request.target_params / n;
          c.rank = law::predict_loss(request.law, request.target_params, c.tokens / scale,
                                     dense ? 0.0 : s);
        } else if (request.mode == PlanMode::kFixedSparsity) {
          c.rank = law::predict_loss(request.law, n, c.tokens, request.target_sparsity);
        }
        c.memory_bytes = memory;
        c.total_params = counts.total;
        c.active_params = counts.active;
        c.d_model = static_cast<std::int32_t>(d);
        c.n_layers = static_cast<std::int32_t>(layers);
        c.n_heads = static_cast<std::int32_t>(heads);
        c.experts = static_cast<std::int32_t>(e);
        c.top_k = static_cast<std::int32_t>(k);
        c.granularity = static_cast<std::int32_t>(g);
        result.feasible.push_back(c);
        if (!result.best || better_candidate(c, result.feasible[*result.best]))
          result.best = result.feasible.size() - 1;
      }
    }
  }
  return result;
}

}  // namespace moeplan::planner
