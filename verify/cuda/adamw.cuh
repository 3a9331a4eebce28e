#pragma once
// The optimizer over the flat fp32 parameter buffer: global gradient norm, clipping folded into
// the update, AdamW with torch.optim.AdamW semantics, and the fp32 -> bf16 weight copy.
//   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + ε),   g = clip_scale · grad
#include "verify/cuda/common.cuh"

namespace moeplan::cuda {

// norm_sq (1) fp64 += Σ g² over n elements.
void grad_norm_squared(const float* grads, std::int64_t n, double* norm_sq, cudaStream_t stream);

struct AdamWStep {
  float lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
  float bias_correction1 = 1, bias_correction2 = 1;  // 1 − β^t
  float grad_scale = 1;                               // clipping coefficient
};

// One update of params/m/v (fp32, n elements); writes the bf16 copy and zeroes grads.
void adamw_update(float* params, float* grads, float* m, float* v, bf16* params_bf16,
                  std::int64_t n, const AdamWStep& step, cudaStream_t stream);

// dst (n) bf16 = src (n) fp32, round to nearest even.
void copy_to_bf16(const float* src, bf16* dst, std::int64_t n, cudaStream_t stream);
// dst (n) fp32 = src (n) bf16.
void copy_to_fp32(const bf16* src, float* dst, std::int64_t n, cudaStream_t stream);

}  // namespace moeplan::cuda
