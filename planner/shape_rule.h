#pragma once
// How a model of N total parameters and sparsity S is shaped: the planner's documented rule,
// used both by the continuous relaxation (fractional d_model and layers) and by the discrete
// architecture search (whole numbers).
//   n_layers = d_model / aspect_ratio (default 128, as Mixtral and OLMoE; at least 2 when discrete)
//     in the continuous relaxation; the discrete search tries every depth with d_model/n_layers
//     in [kMinAspectRatio, kMaxAspectRatio] (the paper's family and published MoEs span about
//     30-200) unless --aspect-ratio or --layers fixes it
//   head_dim = 128 for d_model >= 1024, else 64; n_heads = d_model / head_dim
//   active expert width K/G = 1: the active MLP equals the dense base MLP (App. C's estimator),
//   so per layer 4·d² attention + 12·d²/(1-S) expert params + router d·E (E = 1/(1-S)) + norms,
//   plus 2·V·d embeddings (untied) and the final norm.
#include <cstdint>
#include <optional>

#include "law/architecture.h"
#include "law/flops.h"

namespace moeplan::planner {

inline constexpr double kDefaultAspectRatio = 128;
inline constexpr double kMinAspectRatio = 30;
inline constexpr double kMaxAspectRatio = 200;
inline constexpr std::int64_t kMinLayers = 2;

struct LayerRange {
  std::int64_t first = 0, last = 0;  // inclusive
};

struct ShapeRule {
  double aspect_ratio = kDefaultAspectRatio;  // d_model / n_layers (--aspect-ratio)
  bool free_depth = true;                     // search the depth (false under --aspect-ratio)
  std::optional<std::int64_t> n_layers;  // --layers: fixed depth
  std::optional<std::int64_t> n_heads;   // --heads: fixed head count
  std::optional<std::int64_t> head_dim;  // --head-dim: fixed head width
  std::int64_t vocab_size = 50432;
  std::int64_t context = 2048;

  double layers(double d_model) const;                       // continuous
  std::int64_t discrete_layers(std::int64_t d_model) const;  // max(2, round(d/aspect))
  // The depths the discrete search tries at d_model: --layers, or round(d/aspect) under
  // --aspect-ratio, else ceil(d/kMaxAspectRatio)..floor(d/kMinAspectRatio), at least kMinLayers
  // and always including discrete_layers(d).
  LayerRange discrete_layer_range(std::int64_t d_model) const;
  double head_dim_for(double d_model) const;                 // continuous
};

// A fractional paper-family model (K = G = 1, E = 1/(1-S)) for the continuous solver.
struct ContinuousShape {
  double d_model = 0, n_layers = 0, head_dim = 0, n_heads = 0;
  double experts = 1;  // E_total = 1/(1-S)
  double sparsity = 0;
  double total_params = 0, active_params = 0, embedding_params = 0;
};

ContinuousShape continuous_shape_at_width(double d_model, double sparsity, const ShapeRule& rule);
// Solves total_params(d) = N for d by bisection (the count is increasing in d).
ContinuousShape continuous_shape(double total_params, double sparsity, const ShapeRule& rule);

// Per-token training FLOPs of the fractional shape, by the same method as law/flops.h
// (6·N_a, or Eq. 9 built from law::six_na_flops_per_token / attention_flops_per_token).
double continuous_flops_per_token(const ContinuousShape& shape, const ShapeRule& rule,
                                  law::FlopsMethod method);

}  // namespace moeplan::planner
