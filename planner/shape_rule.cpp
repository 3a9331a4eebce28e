#include "planner/shape_rule.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace moeplan::planner {

double ShapeRule::layers(double d_model) const {
  if (n_layers) return static_cast<double>(*n_layers);
  return d_model / aspect_ratio;
}

std::int64_t ShapeRule::discrete_layers(std::int64_t d_model) const {
  if (n_layers) return *n_layers;
  const auto rounded =
      static_cast<std::int64_t>(std::llround(static_cast<double>(d_model) / aspect_ratio));
  return std::max<std::int64_t>(kMinLayers, rounded);
}

LayerRange ShapeRule::discrete_layer_range(std::int64_t d_model) const {
  const std::int64_t fixed = discrete_layers(d_model);
  if (n_layers || !free_depth) return {fixed, fixed};
  const auto d = static_cast<double>(d_model);
  const auto lo = static_cast<std::int64_t>(std::ceil(d / kMaxAspectRatio - 1e-9));
  const auto hi = static_cast<std::int64_t>(std::floor(d / kMinAspectRatio + 1e-9));
  return {std::min(fixed, std::max(kMinLayers, lo)), std::max(fixed, hi)};
}

double ShapeRule::head_dim_for(double d_model) const {
  if (head_dim) return static_cast<double>(*head_dim);
  if (n_heads) return d_model / static_cast<double>(*n_heads);
  return d_model >= 1024 ? 128.0 : 64.0;
}

ContinuousShape continuous_shape_at_width(double d, double sparsity, const ShapeRule& rule) {
  ContinuousShape s;
  s.d_model = d;
  s.n_layers = rule.layers(d);
  s.head_dim = rule.head_dim_for(d);
  s.n_heads = d / s.head_dim;
  s.sparsity = sparsity;
  s.experts = 1.0 / (1.0 - sparsity);
  // Same accounting as law::count_params with K = G = 1, expert_hidden = 4d (App. C).
  const double expert = 3.0 * d * (4.0 * d);
  const double shared_per_layer = 4.0 * d * d + d * s.experts + 2.0 * d + 2.0 * s.head_dim;
  s.embedding_params = 2.0 * static_cast<double>(rule.vocab_size) * d;
  const double shared = s.n_layers * shared_per_layer + s.embedding_params + d;
  s.total_params = shared + s.n_layers * s.experts * expert;
  s.active_params = shared + s.n_layers * expert;
  return s;
}

ContinuousShape continuous_shape(double total_params, double sparsity, const ShapeRule& rule) {
  if (!(total_params > 0)) fail("total parameters must be positive, got ", total_params);
  double lo = 1e-3, hi = 1e7;  // d_model bracket, in log space
  if (continuous_shape_at_width(lo, sparsity, rule).total_params > total_params)
    return continuous_shape_at_width(lo, sparsity, rule);
  for (int i = 0; i < 64; ++i) {
    const double mid = std::sqrt(lo * hi);
    if (continuous_shape_at_width(mid, sparsity, rule).total_params < total_params)
      lo = mid;
    else
      hi = mid;
  }
  // The head-width rule jumps at d = 1024; take the side whose count is closer.
  const ContinuousShape a = continuous_shape_at_width(lo, sparsity, rule);
  const ContinuousShape b = continuous_shape_at_width(hi, sparsity, rule);
  return std::fabs(a.total_params - total_params) < std::fabs(b.total_params - total_params) ? a
                                                                                             : b;
}

double continuous_flops_per_token(const ContinuousShape& s, const ShapeRule& rule,
                                  law::FlopsMethod method) {
  if (method == law::FlopsMethod::kSixNaD) return law::six_na_flops_per_token(s.active_params);
  // Eq. 9 (App. C): 6·L·(4d² + 3·K·d·h) for the projections and the K active experts
  // (h = 4d/G, K/G = 1), 6·L·n_ctx·2d for attention, 6·V·d for the un-embedding,
  // and R·d·E per layer for the router when asked.
  const double d = s.d_model;
  const double matmuls = s.n_layers * (4.0 * d * d + 3.0 * d * (4.0 * d));
  double flops =
      law::six_na_flops_per_token(matmuls) +
      law::attention_flops_per_token(s.n_layers, static_cast<double>(rule.context), d, d) +
      law::six_na_flops_per_token(static_cast<double>(rule.vocab_size) * d);
  if (method == law::FlopsMethod::kEq9WithRouter)
    flops += s.n_layers * law::kRouterFlopsPerParam * d * s.experts;
  return flops;
}

}  // namespace moeplan::planner
