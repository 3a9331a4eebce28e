#pragma once
// MoE router: p = softmax(logits) (fp32 or wider), top-K experts by p (ties: lower index first),
// Switch load-balancing loss aux = E·Σ_i f_i·P_i (f_i: fraction of the T·K assignments to expert
// i, a constant; P_i: mean of p_·i) and router z-loss z = mean_t logsumexp(logits_t)².
#include <cstdint>
#include <vector>

#include "verify/cpu/tensor.h"

namespace moeplan::verify {

template <typename S>
struct Routing {
  std::int64_t top_k = 1;
  Mat<S> probs;                      // (tokens, E)
  Vec<S> logsumexp;                  // (tokens)
  std::vector<std::int32_t> expert;  // (tokens·K): token t's k-th choice, by decreasing p
  std::vector<std::int64_t> counts;  // (E): assignments per expert
};

template <typename S>
Routing<S> route_forward(MatIn<S> logits, std::int64_t top_k);

template <typename S>
S load_balancing_loss(const Routing<S>& routing);
template <typename S>
S router_z_loss(const Routing<S>& routing);

// d(loss)/d(logits), where loss depends on p through the mixing weights (dprobs: ∂loss/∂p, zero
// for experts not chosen), plus aux_coef·aux and z_coef·z:
//   g_ti = dprobs_ti + aux_coef·E·f_i/T,  dlogits_ti = p_ti·(g_ti − Σ_j p_tj·g_tj)
//          + z_coef·2·lse_t·p_ti/T.
template <typename S>
Mat<S> router_backward(const Routing<S>& routing, MatIn<S> dprobs, S aux_coef, S z_coef);

}  // namespace moeplan::verify
