#pragma once
// MoE routing on the device. With T tokens, E experts, top-K, N = T·K assignments (a = t·K + k):
//   softmax + top-K      probs (T, E), lse (T), expert (T, K), weight (T, K) = probs of the choice
//   histogram            counts (E) and each assignment's rank within its expert (stable: token
//                        order), one block per expert, no atomics -> deterministic
//   exclusive scan       offsets (E + 1), offsets[E] = N
//   permute              slot (N): row of assignment a in expert-contiguous order; token_of_row (N)
//   gather               xs (N, d) = x[token_of_row]
//   unpermute            out_t = resid_t + Σ_k weight_tk · ys[slot(t,k)]  (gather, no atomics)
// Losses (model_layout.h): aux = E·Σ_i f_i·P_i (f_i = counts_i/N as a constant, P_i = mean_t
// probs_ti), z = mean_t lse_t²; router_backward folds their gradients (times coefficients) with the
// gate gradient into dlogits.
#include "verify/cuda/common.cuh"

namespace moeplan::cuda {

struct RouteShape {
  std::int64_t tokens = 0, experts = 0, top_k = 0;
  std::int64_t assignments() const { return tokens * top_k; }
};

// logits (T, E) fp32 -> probs (T, E), lse (T), expert (T, K) int32, weight (T, K) fp32;
// z_sum (1) fp64 += Σ_t lse_t². Ties in top-K go to the lower expert index.
void router_softmax_topk(const float* logits, float* probs, float* lse, std::int32_t* expert,
                         float* weight, double* z_sum, const RouteShape& shape,
                         cudaStream_t stream);

// counts (E) int32, offsets (E + 1) int32, slot (N) int32, token_of_row (N) int32.
void route_permutation(const std::int32_t* expert, std::int32_t* counts, std::int32_t* offsets,
                       std::int32_t* rank, std::int32_t* slot, std::int32_t* token_of_row,
                       const RouteShape& shape, cudaStream_t stream);

// aux_sum (1) fp64 += E·Σ_i (counts_i/N)·mean_t probs_ti.
void router_aux_loss(const float* probs, const std::int32_t* counts, double* aux_sum,
                     const RouteShape& shape, cudaStream_t stream);

// xs (N, d) bf16 = x (T, d) bf16 rows by token_of_row.
void gather_rows(const bf16* x, const std::int32_t* token_of_row, bf16* xs, std::int64_t rows,
                 std::int64_t d, cudaStream_t stream);

// out (T, d) fp32 = resid (T, d) + Σ_k weight (T, K) · ys (N, d)[slot]. out may alias resid.
void moe_combine(const float* resid, const float* ys, const float* weight, const std::int32_t* slot,
                 float* out, const RouteShape& shape, std::int64_t d, cudaStream_t stream);

// Backward of moe_combine w.r.t. ys and weights: dys (N, d) bf16 = weight · dout[token],
// gate_grad (T, K) fp32 = <dout_t, ys[slot]>.
void moe_combine_backward(const float* dout, const float* ys, const float* weight,
                          const std::int32_t* slot, bf16* dys, float* gate_grad,
                          const RouteShape& shape, std::int64_t d, cudaStream_t stream);

// dlogits (T, E) bf16 from the gate gradient, aux_coef·aux and z_coef·z (coefficients already
// multiplied by the loss scale).
void router_backward(const float* probs, const float* lse, const std::int32_t* expert,
                     const float* gate_grad, const std::int32_t* counts, float aux_coef,
                     float z_coef, bf16* dlogits, const RouteShape& shape, cudaStream_t stream);

// dx (T, d) fp32 += Σ_k dxs (N, d)[slot(t, k)]  (unpermute of the expert input gradient).
void scatter_add_rows(const float* dxs, const std::int32_t* slot, float* dx,
                      const RouteShape& shape, std::int64_t d, cudaStream_t stream);

}  // namespace moeplan::cuda
