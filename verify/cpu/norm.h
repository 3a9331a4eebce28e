#pragma once
// RMSNorm (no bias): y_t = g ⊙ x_t · r_t, r_t = 1/sqrt(mean_j x_tj² + eps), eps = kRmsNormEps.
// Used before attention and MoE, at the end, and per head on q and k (QK-norm, one gain of size
// head_dim shared by the heads).
#include "verify/cpu/tensor.h"

namespace moeplan::verify {

// Row-wise; stores r_t in *inv_rms for the backward pass.
template <typename S>
Mat<S> rmsnorm_forward(MatIn<S> x, VecIn<S> gain, Vec<S>* inv_rms);
// dx_t = r_t·(g⊙dy_t) − x_t·r_t³/n·Σ_j g_j·dy_tj·x_tj; adds Σ_t dy_t⊙x_t·r_t to dgain.
template <typename S>
Mat<S> rmsnorm_backward(MatIn<S> x, VecIn<S> gain, VecIn<S> inv_rms, MatIn<S> dy, VecOut<S> dgain);

// QK-norm: x (tokens, heads·head_dim), each head's slice normalised with the shared gain.
template <typename S>
Mat<S> head_rmsnorm_forward(MatIn<S> x, std::int64_t heads, VecIn<S> gain, Vec<S>* inv_rms);
template <typename S>
Mat<S> head_rmsnorm_backward(MatIn<S> x, std::int64_t heads, VecIn<S> gain, VecIn<S> inv_rms,
                             MatIn<S> dy, VecOut<S> dgain);

}  // namespace moeplan::verify
