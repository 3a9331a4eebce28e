#include "verify/cuda/router.cuh"

#include "verify/cuda/reduce.cuh"
#include "verify/model_layout.h"

namespace moeplan::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kMaxTopK = static_cast<int>(verify::kMaxCudaTopK);

__global__ void softmax_topk_kernel(const float* __restrict__ logits, float* __restrict__ probs,
                                    float* __restrict__ lse, std::int32_t* __restrict__ expert,
                                    float* __restrict__ weight, std::int64_t tokens,
                                    int n_experts, int top_k) {
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (t >= tokens) return;
  const float* z = logits + t * n_experts;
  float m = -INFINITY;
  for (int i = lane; i < n_experts; i += 32) m = fmaxf(m, z[i]);
  m = warp_max(m);
  float s = 0.0f;
  for (int i = lane; i < n_experts; i += 32) s += expf(z[i] - m);
  s = warp_sum(s);
  const float l = m + logf(s);
  float* p = probs + t * n_experts;
  for (int i = lane; i < n_experts; i += 32) p[i] = expf(z[i] - l);
  __syncwarp();
  int chosen[kMaxTopK];
  for (int k = 0; k < top_k; ++k) {
    float best = -1.0f;
    int best_i = n_experts;
    for (int i = lane; i < n_experts; i += 32) {
      bool taken = false;
      for (int j = 0; j < k; ++j) taken |= chosen[j] == i;
      if (!taken && p[i] > best) {  // strict: the lowest index wins ties within a lane
        best = p[i];
        best_i = i;
      }
    }
    for (int o = 16; o > 0; o >>= 1) {
      const float ob = __shfl_xor_sync(0xffffffffu, best, o);
      const int oi = __shfl_xor_sync(0xffffffffu, best_i, o);
      if (ob > best || (ob == best && oi < best_i)) {
        best = ob;
        best_i = oi;
      }
    }
    chosen[k] = best_i;
    if (lane == 0) {
      expert[t * top_k + k] = best_i;
      weight[t * top_k + k] = best;
    }
  }
  if (lane == 0) lse[t] = l;
}

// One block per expert scans the N assignments in order: rank = #earlier assignments to e.
__global__ void rank_kernel(const std::int32_t* __restrict__ expert, std::int32_t* counts,
                            std::int32_t* rank, std::int64_t n) {
  __shared__ int warp_counts[32];
  const int e = blockIdx.x;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  int running = 0;
  for (std::int64_t base = 0; base < n; base += blockDim.x) {
    const std::int64_t a = base + threadIdx.x;
    const bool match = a < n && expert[a] == e;
    const unsigned ballot = __ballot_sync(0xffffffffu, match);
    if (lane == 0) warp_counts[warp] = __popc(ballot);
    __syncthreads();
    int before = 0, total = 0;
    for (int w = 0; w < warps; ++w) {
      if (w < warp) before += warp_counts[w];
      total += warp_counts[w];
    }
    if (match) rank[a] = running + before + __popc(ballot & ((1u << lane) - 1u));
    running += total;
    __syncthreads();
  }
  if (threadIdx.x == 0) counts[e] = running;
}

__global__ void scan_kernel(const std::int32_t* counts, std::int32_t* offsets, int n_experts) {
  int sum = 0;
  for (int e = 0; e < n_experts; ++e) {
    offsets[e] = sum;
    sum += counts[e];
  }
  offsets[n_experts] = sum;
}

__global__ void permute_kernel(const std::int32_t* __restrict__ expert,
                               const std::int32_t* __restrict__ offsets,
                               const std::int32_t* __restrict__ rank, std::int32_t* slot,
                               std::int32_t* token_of_row, std::int64_t n, int top_k) {
  const std::int64_t a = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (a >= n) return;
  const int row = offsets[expert[a]] + rank[a];
  slot[a] = row;
  token_of_row[row] = static_cast<std::int32_t>(a / top_k);
}

__global__ void aux_kernel(const float* __restrict__ probs, const std::int32_t* __restrict__ counts,
                           double* terms, std::int64_t tokens, int n_experts, int top_k) {
  __shared__ float scratch[32];
  const int e = blockIdx.x;
  float s = 0.0f;
  for (std::int64_t t = threadIdx.x; t < tokens; t += blockDim.x) s += probs[t * n_experts + e];
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) {
    const double f = static_cast<double>(counts[e]) / (static_cast<double>(tokens) * top_k);
    terms[e] = n_experts * f * (static_cast<double>(s) / static_cast<double>(tokens));
  }
}

__global__ void gather_kernel(const bf16* __restrict__ x, const std::int32_t* __restrict__ token,
                              bf16* __restrict__ xs, int d) {
  const std::int64_t r = blockIdx.x;
  const bf16* src = x + static_cast<std::int64_t>(token[r]) * d;
  for (int i = threadIdx.x; i < d; i += blockDim.x) xs[r * d + i] = src[i];
}

__global__ void combine_kernel(const float* resid, const float* __restrict__ ys,
                               const float* __restrict__ weight, const std::int32_t* __restrict__ slot,
                               float* out, int top_k, int d) {
  const std::int64_t t = blockIdx.x;
  for (int i = threadIdx.x; i < d; i += blockDim.x) {
    float acc = resid[t * d + i];
    for (int k = 0; k < top_k; ++k)
      acc += weight[t * top_k + k] * ys[static_cast<std::int64_t>(slot[t * top_k + k]) * d + i];
    out[t * d + i] = acc;
  }
}

__global__ void combine_backward_kernel(const float* __restrict__ dout, const float* __restrict__ ys,
                                        const float* __restrict__ weight,
                                        const std::int32_t* __restrict__ slot, bf16* __restrict__ dys,
                                        float* __restrict__ gate_grad, int top_k, int d) {
  __shared__ float scratch[32];
  const std::int64_t t = blockIdx.x;
  for (int k = 0; k < top_k; ++k) {
    const std::int64_t row = slot[t * top_k + k];
    const float w = weight[t * top_k + k];
    float dot = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
      const float g = dout[t * d + i];
      dot += g * ys[row * d + i];
      dys[row * d + i] = __float2bfloat16(w * g);
    }
    dot = block_sum(dot, scratch);
    if (threadIdx.x == 0) gate_grad[t * top_k + k] = dot;
  }
}

__global__ void router_backward_kernel(const float* __restrict__ probs,
                                       const float* __restrict__ lse,
                                       const std::int32_t* __restrict__ expert,
                                       const float* __restrict__ gate_grad,
                                       const std::int32_t* __restrict__ counts, float aux_coef,
                                       float z_coef, bf16* __restrict__ dlogits,
                                       std::int64_t tokens, int n_experts, int top_k) {
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (t >= tokens) return;
  const float inv_tokens = 1.0f / static_cast<float>(tokens);
  const float inv_assign = 1.0f / (static_cast<float>(tokens) * top_k);
  const float* p = probs + t * n_experts;
  // dL/dp_i = aux_coef·E·f_i/T + Σ_k [expert_k = i]·gate_grad_k
  auto dp = [&](int i) {
    float g = aux_coef * n_experts * (static_cast<float>(counts[i]) * inv_assign) * inv_tokens;
    for (int k = 0; k < top_k; ++k)
      if (expert[t * top_k + k] == i) g += gate_grad[t * top_k + k];
    return g;
  };
  float dot = 0.0f;
  for (int i = lane; i < n_experts; i += 32) dot += p[i] * dp(i);
  dot = warp_sum(dot);
  const float zg = z_coef * 2.0f * lse[t] * inv_tokens;  // d(z_coef·mean lse²)/dlse
  for (int i = lane; i < n_experts; i += 32)
    dlogits[t * n_experts + i] = __float2bfloat16(p[i] * (dp(i) - dot) + zg * p[i]);
}

__global__ void scatter_add_kernel(const float* __restrict__ dxs, const std::int32_t* __restrict__ slot,
                                   float* dx, int top_k, int d) {
  const std::int64_t t = blockIdx.x;
  for (int i = threadIdx.x; i < d; i += blockDim.x) {
    float acc = dx[t * d + i];
    for (int k = 0; k < top_k; ++k)
      acc += dxs[static_cast<std::int64_t>(slot[t * top_k + k]) * d + i];
    dx[t * d + i] = acc;
  }
}

void check(const RouteShape& s) {
  MOEPLAN_REQUIRE(s.tokens > 0 && s.assignments() < (1LL << 31), "tokens=", s.tokens,
                  " assignments=", s.assignments());
  MOEPLAN_REQUIRE(s.experts > 0 && s.experts <= 65535, "experts=", s.experts);
  MOEPLAN_REQUIRE(s.top_k > 0 && s.top_k <= s.experts && s.top_k <= kMaxTopK, "top_k=", s.top_k,
                  " (experts ", s.experts, ", at most ", kMaxTopK, ")");
}

unsigned token_blocks(const RouteShape& s) {
  return static_cast<unsigned>(ceil_div(s.tokens, kWarps));
}

unsigned threads_for(std::int64_t d) { return d >= 256 ? 256 : d >= 128 ? 128 : 64; }

}  // namespace

void router_softmax_topk(const float* logits, float* probs, float* lse, std::int32_t* expert,
                         float* weight, double* z_sum, const RouteShape& shape,
                         cudaStream_t stream) {
  check(shape);
  softmax_topk_kernel<<<token_blocks(shape), kWarps * 32, 0, stream>>>(
      logits, probs, lse, expert, weight, shape.tokens, static_cast<int>(shape.experts),
      static_cast<int>(shape.top_k));
  CUDA_CHECK_LAUNCH();
  deterministic_sum(SquaresOf<float>{lse}, shape.tokens, z_sum, stream);  // Σ lse²
}

void route_permutation(const std::int32_t* expert, std::int32_t* counts, std::int32_t* offsets,
                       std::int32_t* rank, std::int32_t* slot, std::int32_t* token_of_row,
                       const RouteShape& shape, cudaStream_t stream) {
  check(shape);
  const std::int64_t n = shape.assignments();
  rank_kernel<<<static_cast<unsigned>(shape.experts), 1024, 0, stream>>>(expert, counts, rank, n);
  CUDA_CHECK_LAUNCH();
  scan_kernel<<<1, 1, 0, stream>>>(counts, offsets, static_cast<int>(shape.experts));
  CUDA_CHECK_LAUNCH();
  permute_kernel<<<static_cast<unsigned>(ceil_div(n, 256)), 256, 0, stream>>>(
      expert, offsets, rank, slot, token_of_row, n, static_cast<int>(shape.top_k));
  CUDA_CHECK_LAUNCH();
}

void router_aux_loss(const float* probs, const std::int32_t* counts, double* aux_sum,
                     const RouteShape& shape, cudaStream_t stream) {
  check(shape);
  double* terms = nullptr;  // one per expert, summed in expert order
  CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&terms),
                             static_cast<std::size_t>(shape.experts) * sizeof(double), stream));
  aux_kernel<<<static_cast<unsigned>(shape.experts), 256, 0, stream>>>(
      probs, counts, terms, shape.tokens, static_cast<int>(shape.experts),
      static_cast<int>(shape.top_k));
  CUDA_CHECK_LAUNCH();
  deterministic_sum(ValuesOf<double>{terms}, shape.experts, aux_sum, stream);
  CUDA_CHECK(cudaFreeAsync(terms, stream));
}

void gather_rows(const bf16* x, const std::int32_t* token_of_row, bf16* xs, std::int64_t rows,
                 std::int64_t d, cudaStream_t stream) {
  MOEPLAN_REQUIRE(rows > 0 && rows < (1LL << 31) && d > 0, "rows=", rows, " d=", d);
  gather_kernel<<<static_cast<unsigned>(rows), threads_for(d), 0, stream>>>(x, token_of_row, xs,
                                                                            static_cast<int>(d));
  CUDA_CHECK_LAUNCH();
}

void moe_combine(const float* resid, const float* ys, const float* weight, const std::int32_t* slot,
                 float* out, const RouteShape& shape, std::int64_t d, cudaStream_t stream) {
  check(shape);
  MOEPLAN_REQUIRE(d > 0, "d=", d);
  combine_kernel<<<static_cast<unsigned>(shape.tokens), threads_for(d), 0, stream>>>(
      resid, ys, weight, slot, out, static_cast<int>(shape.top_k), static_cast<int>(d));
  CUDA_CHECK_LAUNCH();
}

void moe_combine_backward(const float* dout, const float* ys, const float* weight,
                          const std::int32_t* slot, bf16* dys, float* gate_grad,
                          const RouteShape& shape, std::int64_t d, cudaStream_t stream) {
  check(shape);
  MOEPLAN_REQUIRE(d > 0, "d=", d);
  combine_backward_kernel<<<static_cast<unsigned>(shape.tokens), threads_for(d), 0, stream>>>(
      dout, ys, weight, slot, dys, gate_grad, static_cast<int>(shape.top_k), static_cast<int>(d));
  CUDA_CHECK_LAUNCH();
}

void router_backward(const float* probs, const float* lse, const std::int32_t* expert,
                     const float* gate_grad, const std::int32_t* counts, float aux_coef,
                     float z_coef, bf16* dlogits, const RouteShape& shape, cudaStream_t stream) {
  check(shape);
  router_backward_kernel<<<token_blocks(shape), kWarps * 32, 0, stream>>>(
      probs, lse, expert, gate_grad, counts, aux_coef, z_coef, dlogits, shape.tokens,
      static_cast<int>(shape.experts), static_cast<int>(shape.top_k));
  CUDA_CHECK_LAUNCH();
}

void scatter_add_rows(const float* dxs, const std::int32_t* slot, float* dx,
                      const RouteShape& shape, std::int64_t d, cudaStream_t stream) {
  check(shape);
  MOEPLAN_REQUIRE(d > 0, "d=", d);
  scatter_add_kernel<<<static_cast<unsigned>(shape.tokens), threads_for(d), 0, stream>>>(
      dxs, slot, dx, static_cast<int>(shape.top_k), static_cast<int>(d));
  CUDA_CHECK_LAUNCH();
}

}  // namespace moeplan::cuda
