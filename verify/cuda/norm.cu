#include "verify/cuda/norm.cuh"
#include "verify/cuda/reduce.cuh"
#include "verify/model_layout.h"

namespace moeplan::cuda {
namespace {

constexpr int kWarps = 8;  // rows per block (one warp per row)

__global__ void rmsnorm_forward_kernel(const float* __restrict__ x, const float* __restrict__ gain,
                                       bf16* __restrict__ y, float* __restrict__ rstd,
                                       std::int64_t rows, int d, float eps) {
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const float* xr = x + row * d;
  float ss = 0.0f;
  for (int i = lane; i < d; i += 32) ss += xr[i] * xr[i];
  ss = warp_sum(ss);
  const float r = rsqrtf(ss / static_cast<float>(d) + eps);
  for (int i = lane; i < d; i += 32) y[row * d + i] = __float2bfloat16(xr[i] * r * gain[i]);
  if (lane == 0) rstd[row] = r;
}

__global__ void rmsnorm_backward_kernel(const float* __restrict__ x, const float* __restrict__ gain,
                                        const float* __restrict__ rstd, const float* dy,
                                        const float* residual, float* dx, std::int64_t rows,
                                        int d) {
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const float* xr = x + row * d;
  const float* dyr = dy + row * d;
  const float r = rstd[row];
  float dot = 0.0f;  // Σ dy⊙g⊙n
  for (int i = lane; i < d; i += 32) dot += dyr[i] * gain[i] * xr[i] * r;
  dot = warp_sum(dot) / static_cast<float>(d);
  for (int i = lane; i < d; i += 32) {
    const float n = xr[i] * r;
    const float base = residual ? residual[row * d + i] : 0.0f;
    dx[row * d + i] = base + r * (dyr[i] * gain[i] - n * dot);
  }
}

// The gain gradient's summand at (row, i): dy·n with n = x·rstd.
struct GainGradient {
  const float* x;
  const float* dy;
  const float* rstd;
  std::int64_t d;
  __device__ float operator()(std::int64_t row, std::int64_t i) const {
    const float n = x[row * d + i] * rstd[row];
    return dy[row * d + i] * n;
  }
};

}  // namespace

void rmsnorm_forward(const float* x, const float* gain, bf16* y, float* rstd, std::int64_t rows,
                     std::int64_t d, cudaStream_t stream) {
  MOEPLAN_REQUIRE(rows > 0 && d > 0, "rows=", rows, " d=", d);
  rmsnorm_forward_kernel<<<static_cast<unsigned>(ceil_div(rows, kWarps)), kWarps * 32, 0,
                           stream>>>(x, gain, y, rstd, rows, static_cast<int>(d),
                                     static_cast<float>(verify::kRmsNormEps));
  CUDA_CHECK_LAUNCH();
}

void rmsnorm_backward(const float* x, const float* gain, const float* rstd, const float* dy,
                      const float* residual, float* dx, float* dgain, std::int64_t rows,
                      std::int64_t d, cudaStream_t stream) {
  MOEPLAN_REQUIRE(rows > 0 && d > 0 && d < (1LL << 31), "rows=", rows, " d=", d);
  MOEPLAN_REQUIRE(dy != dx, "dy and dx must differ (dgain is summed from dy after dx is written)");
  rmsnorm_backward_kernel<<<static_cast<unsigned>(ceil_div(rows, kWarps)), kWarps * 32, 0,
                            stream>>>(x, gain, rstd, dy, residual, dx, rows, static_cast<int>(d));
  CUDA_CHECK_LAUNCH();
  deterministic_column_sums(GainGradient{x, dy, rstd, d}, rows, d, dgain, stream);
}

}  // namespace moeplan::cuda
