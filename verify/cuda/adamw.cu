#include "verify/cuda/adamw.cuh"
#include "verify/cuda/reduce.cuh"

namespace moeplan::cuda {
namespace {

constexpr int kThreads = 256;

unsigned grid_for(std::int64_t n) {
  return static_cast<unsigned>(std::min<std::int64_t>(ceil_div(n, kThreads), 65535LL * 8));
}

__global__ void adamw_kernel(float* __restrict__ p, float* __restrict__ g, float* __restrict__ m,
                             float* __restrict__ v, bf16* __restrict__ p16, std::int64_t n,
                             AdamWStep s) {
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float grad = g[i] * s.grad_scale;
    const float mi = s.beta1 * m[i] + (1.0f - s.beta1) * grad;
    const float vi = s.beta2 * v[i] + (1.0f - s.beta2) * grad * grad;
    float pi = p[i] * (1.0f - s.lr * s.weight_decay);
    pi -= s.lr * (mi / s.bias_correction1) / (sqrtf(vi / s.bias_correction2) + s.eps);
    m[i] = mi;
    v[i] = vi;
    p[i] = pi;
    p16[i] = __float2bfloat16(pi);
    g[i] = 0.0f;
  }
}

__global__ void to_bf16_kernel(const float* __restrict__ src, bf16* __restrict__ dst,
                               std::int64_t n) {
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    dst[i] = __float2bfloat16(src[i]);
}

__global__ void to_fp32_kernel(const bf16* __restrict__ src, float* __restrict__ dst,
                               std::int64_t n) {
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    dst[i] = __bfloat162float(src[i]);
}

}  // namespace

void grad_norm_squared(const float* grads, std::int64_t n, double* norm_sq, cudaStream_t stream) {
  MOEPLAN_REQUIRE(n > 0, "n=", n);
  deterministic_sum(SquaresOf<float>{grads}, n, norm_sq, stream);
}

void adamw_update(float* params, float* grads, float* m, float* v, bf16* params_bf16,
                  std::int64_t n, const AdamWStep& step, cudaStream_t stream) {
  MOEPLAN_REQUIRE(n > 0, "n=", n);
  MOEPLAN_REQUIRE(step.bias_correction1 > 0 && step.bias_correction2 > 0,
                  "bias corrections ", step.bias_correction1, ", ", step.bias_correction2);
  adamw_kernel<<<grid_for(n), kThreads, 0, stream>>>(params, grads, m, v, params_bf16, n, step);
  CUDA_CHECK_LAUNCH();
}

void copy_to_bf16(const float* src, bf16* dst, std::int64_t n, cudaStream_t stream) {
  MOEPLAN_REQUIRE(n > 0, "n=", n);
  to_bf16_kernel<<<grid_for(n), kThreads, 0, stream>>>(src, dst, n);
  CUDA_CHECK_LAUNCH();
}

void copy_to_fp32(const bf16* src, float* dst, std::int64_t n, cudaStream_t stream) {
  MOEPLAN_REQUIRE(n > 0, "n=", n);
  to_fp32_kernel<<<grid_for(n), kThreads, 0, stream>>>(src, dst, n);
  CUDA_CHECK_LAUNCH();
}

}  // namespace moeplan::cuda
