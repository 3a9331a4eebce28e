#pragma once
// The experts: SwiGLU(x) = (silu(x·w1) ⊙ (x·w3))·w2 on the routed rows, grouped by expert.
//
// Grouped GEMM method: one cublasGemmEx per non-empty expert over its contiguous block of rows
// (rows [offsets[e], offsets[e+1]) of the permuted buffers). The per-expert row counts must be
// known on the host to size the GEMMs, so the (E + 1) offsets are copied to the host once per
// layer in the forward pass and reused by the backward pass; no other host round trip.
// (cuBLAS 13's cublasGemmGroupedBatchedEx also needs the per-group m/n/k on the host, so it would
// not remove that copy; it is a possible launch-overhead optimisation for large E.)
#include <vector>

#include "verify/cuda/matmul.cuh"

namespace moeplan::cuda {

struct ExpertShape {
  std::int64_t experts = 0, d = 0, hidden = 0;
};

// Buffers of the N routed rows (expert-contiguous order).
struct ExpertActivations {
  const bf16* xs = nullptr;  // (N, d)   gathered inputs
  bf16* gate = nullptr;      // (N, h)   x·w1
  bf16* up = nullptr;        // (N, h)   x·w3
  bf16* act = nullptr;       // (N, h)   silu(gate) ⊙ up
  float* ys = nullptr;       // (N, d)   act·w2
};

struct ExpertGrads {
  const bf16* dys = nullptr;  // (N, d)   gradient of ys
  float* dact = nullptr;      // (N, h)   scratch
  bf16* dgate = nullptr;      // (N, h)   scratch
  bf16* dup = nullptr;        // (N, h)   scratch
  float* dxs = nullptr;       // (N, d)   gradient of xs (output)
};

// a (n, h) = silu(g) ⊙ u
void swiglu_forward(const bf16* gate, const bf16* up, bf16* act, std::int64_t n,
                    cudaStream_t stream);
// dg = da ⊙ u ⊙ silu'(g),  du = da ⊙ silu(g);  silu'(g) = σ(g)·(1 + g·(1 − σ(g)))
void swiglu_backward(const bf16* gate, const bf16* up, const float* dact, bf16* dgate, bf16* dup,
                     std::int64_t n, cudaStream_t stream);

// w1, w3 (E, d, h) bf16; w2 (E, h, d) bf16; offsets (E + 1) host copy.
void experts_forward(const Blas& blas, const bf16* w1, const bf16* w3, const bf16* w2,
                     const std::vector<std::int32_t>& offsets, const ExpertShape& shape,
                     const ExpertActivations& act, cudaStream_t stream);

// Accumulates dw1, dw3 (E, d, h) and dw2 (E, h, d) fp32; writes grads.dxs.
void experts_backward(const Blas& blas, const bf16* w1, const bf16* w3, const bf16* w2,
                      const std::vector<std::int32_t>& offsets, const ExpertShape& shape,
                      const ExpertActivations& act, const ExpertGrads& grads, float* dw1,
                      float* dw3, float* dw2, cudaStream_t stream);

}  // namespace moeplan::cuda
