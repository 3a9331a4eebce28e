#include "verify/cuda/experts.cuh"

namespace moeplan::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void swiglu_forward_kernel(const bf16* __restrict__ g, const bf16* __restrict__ u,
                                      bf16* __restrict__ a, std::int64_t n) {
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float x = __bfloat162float(g[i]);
    const float silu = x / (1.0f + expf(-x));
    a[i] = __float2bfloat16(silu * __bfloat162float(u[i]));
  }
}

__global__ void swiglu_backward_kernel(const bf16* __restrict__ g, const bf16* __restrict__ u,
                                       const float* __restrict__ da, bf16* __restrict__ dg,
                                       bf16* __restrict__ du, std::int64_t n) {
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float x = __bfloat162float(g[i]);
    const float sig = 1.0f / (1.0f + expf(-x));
    const float silu = x * sig;
    const float d = da[i];
    dg[i] = __float2bfloat16(d * __bfloat162float(u[i]) * sig * (1.0f + x * (1.0f - sig)));
    du[i] = __float2bfloat16(d * silu);
  }
}

unsigned grid_for(std::int64_t n) {
  return static_cast<unsigned>(std::min<std::int64_t>(ceil_div(n, kThreads), 65535LL * 8));
}

void check(const std::vector<std::int32_t>& offsets, const ExpertShape& s) {
  MOEPLAN_REQUIRE(s.experts > 0 && s.d > 0 && s.hidden > 0, "experts=", s.experts, " d=", s.d,
                  " hidden=", s.hidden);
  MOEPLAN_REQUIRE(static_cast<std::int64_t>(offsets.size()) == s.experts + 1,
                  "offsets has ", offsets.size(), " entries for ", s.experts, " experts");
  MOEPLAN_REQUIRE(offsets[0] == 0, "offsets[0]=", offsets[0]);
  for (std::int64_t e = 0; e < s.experts; ++e)
    MOEPLAN_REQUIRE(offsets[e + 1] >= offsets[e], "offsets not ascending at expert ", e);
}

}  // namespace

void swiglu_forward(const bf16* gate, const bf16* up, bf16* act, std::int64_t n,
                    cudaStream_t stream) {
  if (n == 0) return;
  MOEPLAN_REQUIRE(n > 0, "n=", n);
  swiglu_forward_kernel<<<grid_for(n), kThreads, 0, stream>>>(gate, up, act, n);
  CUDA_CHECK_LAUNCH();
}

void swiglu_backward(const bf16* gate, const bf16* up, const float* dact, bf16* dgate, bf16* dup,
                     std::int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  MOEPLAN_REQUIRE(n > 0, "n=", n);
  swiglu_backward_kernel<<<grid_for(n), kThreads, 0, stream>>>(gate, up, dact, dgate, dup, n);
  CUDA_CHECK_LAUNCH();
}

void experts_forward(const Blas& blas, const bf16* w1, const bf16* w3, const bf16* w2,
                     const std::vector<std::int32_t>& offsets, const ExpertShape& shape,
                     const ExpertActivations& act, cudaStream_t stream) {
  check(offsets, shape);
  const std::int64_t d = shape.d, h = shape.hidden;
  for (std::int64_t e = 0; e < shape.experts; ++e) {
    const std::int64_t row = offsets[e], c = offsets[e + 1] - offsets[e];
    if (c == 0) continue;
    const bf16* x = act.xs + row * d;                           // (c, d)
    // gate/up (c, h) = x (c, d) · w1[e], w3[e] (d, h)
    gemm(blas, Trans::kNo, Trans::kNo, c, h, d, x, d, w1 + e * d * h, h, act.gate + row * h, h,
         OutType::kBf16, 1.0f, 0.0f);
    gemm(blas, Trans::kNo, Trans::kNo, c, h, d, x, d, w3 + e * d * h, h, act.up + row * h, h,
         OutType::kBf16, 1.0f, 0.0f);
  }
  const std::int64_t n = offsets[shape.experts];
  swiglu_forward(act.gate, act.up, act.act, n * h, stream);
  for (std::int64_t e = 0; e < shape.experts; ++e) {
    const std::int64_t row = offsets[e], c = offsets[e + 1] - offsets[e];
    if (c == 0) continue;
    // ys (c, d) = act (c, h) · w2[e] (h, d)
    gemm(blas, Trans::kNo, Trans::kNo, c, d, h, act.act + row * h, h, w2 + e * h * d, d,
         act.ys + row * d, d, OutType::kFp32, 1.0f, 0.0f);
  }
}

void experts_backward(const Blas& blas, const bf16* w1, const bf16* w3, const bf16* w2,
                      const std::vector<std::int32_t>& offsets, const ExpertShape& shape,
                      const ExpertActivations& act, const ExpertGrads& grads, float* dw1,
                      float* dw3, float* dw2, cudaStream_t stream) {
  check(offsets, shape);
  const std::int64_t d = shape.d, h = shape.hidden;
  for (std::int64_t e = 0; e < shape.experts; ++e) {
    const std::int64_t row = offsets[e], c = offsets[e + 1] - offsets[e];
    if (c == 0) continue;
    const bf16* dy = grads.dys + row * d;  // (c, d)
    // dact (c, h) = dy (c, d) · w2[e] (h, d)ᵀ
    gemm(blas, Trans::kNo, Trans::kYes, c, h, d, dy, d, w2 + e * h * d, d, grads.dact + row * h, h,
         OutType::kFp32, 1.0f, 0.0f);
    // dw2[e] (h, d) += act (c, h)ᵀ · dy (c, d)
    gemm(blas, Trans::kYes, Trans::kNo, h, d, c, act.act + row * h, h, dy, d, dw2 + e * h * d, d,
         OutType::kFp32, 1.0f, 1.0f);
  }
  const std::int64_t n = offsets[shape.experts];
  swiglu_backward(act.gate, act.up, grads.dact, grads.dgate, grads.dup, n * h, stream);
  for (std::int64_t e = 0; e < shape.experts; ++e) {
    const std::int64_t row = offsets[e], c = offsets[e + 1] - offsets[e];
    if (c == 0) continue;
    const bf16* x = act.xs + row * d;      // (c, d)
    const bf16* dg = grads.dgate + row * h;  // (c, h)
    const bf16* du = grads.dup + row * h;    // (c, h)
    // dxs (c, d) = dg · w1[e]ᵀ + du · w3[e]ᵀ    (w (d, h))
    gemm(blas, Trans::kNo, Trans::kYes, c, d, h, dg, h, w1 + e * d * h, h, grads.dxs + row * d, d,
         OutType::kFp32, 1.0f, 0.0f);
    gemm(blas, Trans::kNo, Trans::kYes, c, d, h, du, h, w3 + e * d * h, h, grads.dxs + row * d, d,
         OutType::kFp32, 1.0f, 1.0f);
    // dw1[e], dw3[e] (d, h) += x (c, d)ᵀ · dg, du (c, h)
    gemm(blas, Trans::kYes, Trans::kNo, d, h, c, x, d, dg, h, dw1 + e * d * h, h, OutType::kFp32,
         1.0f, 1.0f);
    gemm(blas, Trans::kYes, Trans::kNo, d, h, c, x, d, du, h, dw3 + e * d * h, h, OutType::kFp32,
         1.0f, 1.0f);
  }
}

}  // namespace moeplan::cuda
