#pragma once
// QK-norm and RoPE, fused: per token and head, q and k rows of head_dim are RMS-normalised with a
// gain (hd) shared by the heads, then rotated on interleaved pairs (x[2i], x[2i+1]) by the angle
// pos·base^(−2i/hd) exactly as torch_moe_ref.rope (base verify::kRopeBase; pos = token's position
// in its sequence). v is copied unchanged, so the output is the attention's (T, 3d) input.
#include "verify/cuda/common.cuh"

namespace moeplan::cuda {

struct QkvShape {
  std::int64_t batch = 0, seq = 0, heads = 0, head_dim = 0;
  std::int64_t tokens() const { return batch * seq; }
  std::int64_t d() const { return heads * head_dim; }
};

// qkv (T, 3d) bf16 rows q|k|v each (H, hd) -> out (T, 3d) bf16; rstd (T, 2, H) fp32 saved.
void qk_norm_rope_forward(const bf16* qkv, const float* q_gain, const float* k_gain, bf16* out,
                          float* rstd, const QkvShape& shape, cudaStream_t stream);

// dout (T, 3d) bf16 -> dqkv (T, 3d) bf16; dq_gain, dk_gain (hd) fp32 accumulated in a fixed
// order (verify/cuda/reduce.cuh). dqkv must not alias dout.
void qk_norm_rope_backward(const bf16* qkv, const float* q_gain, const float* k_gain,
                           const float* rstd, const bf16* dout, bf16* dqkv, float* dq_gain,
                           float* dk_gain, const QkvShape& shape, cudaStream_t stream);

}  // namespace moeplan::cuda
