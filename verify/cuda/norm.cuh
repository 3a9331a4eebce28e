#pragma once
// RMSNorm over rows of width d (pre-attention, pre-MoE and final norms):
//   y = x · r · g,  r = 1/sqrt(mean(x²) + eps)   (eps = verify::kRmsNormEps)
// Backward with n = x·r:  dx = r·(dy⊙g − n·mean(dy⊙g⊙n)),  dg += Σ_rows dy⊙n.
#include "verify/cuda/common.cuh"

namespace moeplan::cuda {

// x (rows, d) fp32, gain (d) fp32 -> y (rows, d) bf16, rstd (rows) fp32 (saved for backward).
void rmsnorm_forward(const float* x, const float* gain, bf16* y, float* rstd, std::int64_t rows,
                     std::int64_t d, cudaStream_t stream);

// dx (rows, d) = residual + dx_norm  (residual may be null, or equal to dx for in-place);
// dgain (d) += gain gradient (fp32, summed in a fixed order: verify/cuda/reduce.cuh). dy (rows,
// d) fp32, not aliasing dx.
void rmsnorm_backward(const float* x, const float* gain, const float* rstd, const float* dy,
                      const float* residual, float* dx, float* dgain, std::int64_t rows,
                      std::int64_t d, cudaStream_t stream);

}  // namespace moeplan::cuda
