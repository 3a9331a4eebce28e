#pragma once
// Dropless SwiGLU experts mixed by the router's probabilities (no renormalisation):
//   out_t = Σ_k p_{t,e_k}·SwiGLU_{e_k}(x_t),  SwiGLU_e(x) = (silu(x·w1_e) ⊙ (x·w3_e))·w2_e,
// silu(u) = u·σ(u). Tokens are gathered per expert so each expert is three dense GEMMs.
// Weights: w1, w3 (E·d, h) = (E, d, h) row-major; w2 (E·h, d).
#include <cstdint>
#include <vector>

#include "verify/cpu/router.h"
#include "verify/cpu/tensor.h"

namespace moeplan::verify {

template <typename S>
struct ExpertCache {
  std::vector<std::int64_t> tokens;  // rows of x routed to this expert, ascending
  Mat<S> x, gate, up, act, y;        // gathered x, x·w1, x·w3, silu(gate)⊙up, act·w2
};

template <typename S>
Mat<S> experts_forward(MatIn<S> x, const Routing<S>& routing, MatIn<S> w1, MatIn<S> w3, MatIn<S> w2,
                       std::vector<ExpertCache<S>>* cache);

// Returns dx; sets *dprobs (tokens, E) = ∂loss/∂p (y_e·dout at chosen experts, else 0); adds the
// weight gradients to dw1, dw3, dw2.
template <typename S>
Mat<S> experts_backward(const Routing<S>& routing, MatIn<S> w1, MatIn<S> w3, MatIn<S> w2,
                        const std::vector<ExpertCache<S>>& cache, MatIn<S> dout, Mat<S>* dprobs,
                        MatOut<S> dw1, MatOut<S> dw3, MatOut<S> dw2);

}  // namespace moeplan::verify
