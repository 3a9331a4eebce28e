// Plain CUDA causal attention (fp32 accumulation): the GPU tests' oracle and the fallback when the
// cuDNN graph cannot be built on the device. O(S²·hd) per head, one block per query (or key) row.
#include "verify/cuda/attention.cuh"

namespace moeplan::cuda {
namespace {

constexpr int kThreads = 128;

struct Index {  // element (b, s, h, e) of a (B, S, H, hd) tensor with token stride ld
  std::int64_t ld;
  int seq, heads, hd;
  __device__ std::int64_t operator()(int b, int s, int h) const {
    return (static_cast<std::int64_t>(b) * seq + s) * ld + static_cast<std::int64_t>(h) * hd;
  }
};

__device__ inline float dot_row(const float* a_shared, const bf16* b, int hd) {
  float s = 0.0f;
  for (int e = 0; e < hd; ++e) s += a_shared[e] * __bfloat162float(b[e]);
  return s;
}

// grid (S, H, B): query row i of head h in sequence b.
__global__ void forward_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k,
                               const bf16* __restrict__ v, bf16* __restrict__ o,
                               float* __restrict__ lse, Index in, Index out, float scale) {
  extern __shared__ float shared[];  // q_row (hd) | p (S)
  __shared__ float scratch[32];
  const int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z, hd = in.hd;
  float* q_row = shared;
  float* p = shared + hd;
  for (int e = threadIdx.x; e < hd; e += blockDim.x)
    q_row[e] = __bfloat162float(q[in(b, i, h) + e]) * scale;
  __syncthreads();
  float m = -INFINITY;
  for (int j = threadIdx.x; j <= i; j += blockDim.x) {
    p[j] = dot_row(q_row, k + in(b, j, h), hd);
    m = fmaxf(m, p[j]);
  }
  m = block_max(m, scratch);
  float sum = 0.0f;
  for (int j = threadIdx.x; j <= i; j += blockDim.x) {
    p[j] = expf(p[j] - m);
    sum += p[j];
  }
  sum = block_sum(sum, scratch);  // also makes every p[j] visible to the block
  for (int e = threadIdx.x; e < hd; e += blockDim.x) {
    float acc = 0.0f;
    for (int j = 0; j <= i; ++j) acc += p[j] * __bfloat162float(v[in(b, j, h) + e]);
    o[out(b, i, h) + e] = __float2bfloat16(acc / sum);
  }
  if (threadIdx.x == 0) lse[(static_cast<std::int64_t>(b) * in.heads + h) * in.seq + i] = m + logf(sum);
}

// D (B, H, S) = rowsum(dO ⊙ O); grid (S, H, B), one warp.
__global__ void delta_kernel(const bf16* __restrict__ o, const bf16* __restrict__ dout,
                             float* __restrict__ delta, Index out) {
  const int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  float s = 0.0f;
  for (int e = threadIdx.x; e < out.hd; e += 32)
    s += __bfloat162float(o[out(b, i, h) + e]) * __bfloat162float(dout[out(b, i, h) + e]);
  s = warp_sum(s);
  if (threadIdx.x == 0) delta[(static_cast<std::int64_t>(b) * out.heads + h) * out.seq + i] = s;
}

// dq_i = scale · Σ_j≤i dS_ij k_j,  dS_ij = P_ij (dO_i·v_j − D_i),  P_ij = exp(scale q_i·k_j − lse_i)
__global__ void dq_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k,
                          const bf16* __restrict__ v, const bf16* __restrict__ dout,
                          const float* __restrict__ lse, const float* __restrict__ delta,
                          bf16* __restrict__ dq, Index in, Index out, float scale) {
  extern __shared__ float shared[];  // q_row (hd) | do_row (hd) | ds (S)
  const int i = blockIdx.x, h = blockIdx.y, b = blockIdx.z, hd = in.hd;
  float* q_row = shared;
  float* do_row = shared + hd;
  float* ds = shared + 2 * hd;
  for (int e = threadIdx.x; e < hd; e += blockDim.x) {
    q_row[e] = __bfloat162float(q[in(b, i, h) + e]) * scale;
    do_row[e] = __bfloat162float(dout[out(b, i, h) + e]);
  }
  __syncthreads();
  const std::int64_t r = (static_cast<std::int64_t>(b) * in.heads + h) * in.seq + i;
  const float l = lse[r], di = delta[r];
  for (int j = threadIdx.x; j <= i; j += blockDim.x) {
    const float pij = expf(dot_row(q_row, k + in(b, j, h), hd) - l);
    ds[j] = pij * (dot_row(do_row, v + in(b, j, h), hd) - di);
  }
  __syncthreads();
  for (int e = threadIdx.x; e < hd; e += blockDim.x) {
    float acc = 0.0f;
    for (int j = 0; j <= i; ++j) acc += ds[j] * __bfloat162float(k[in(b, j, h) + e]);
    dq[in(b, i, h) + e] = __float2bfloat16(acc * scale);
  }
}

// dv_j = Σ_i≥j P_ij dO_i,  dk_j = scale · Σ_i≥j dS_ij q_i; grid (S, H, B) over key rows j.
__global__ void dkdv_kernel(const bf16* __restrict__ q, const bf16* __restrict__ k,
                            const bf16* __restrict__ v, const bf16* __restrict__ dout,
                            const float* __restrict__ lse, const float* __restrict__ delta,
                            bf16* __restrict__ dk, bf16* __restrict__ dv, Index in, Index out,
                            float scale) {
  extern __shared__ float shared[];  // k_row (hd) | v_row (hd) | p (S) | ds (S)
  const int j = blockIdx.x, h = blockIdx.y, b = blockIdx.z, hd = in.hd, seq = in.seq;
  float* k_row = shared;
  float* v_row = shared + hd;
  float* p = shared + 2 * hd;
  float* ds = p + seq;
  for (int e = threadIdx.x; e < hd; e += blockDim.x) {
    k_row[e] = __bfloat162float(k[in(b, j, h) + e]) * scale;
    v_row[e] = __bfloat162float(v[in(b, j, h) + e]);
  }
  __syncthreads();
  const std::int64_t r0 = (static_cast<std::int64_t>(b) * in.heads + h) * seq;
  for (int i = j + threadIdx.x; i < seq; i += blockDim.x) {
    const float pij = expf(dot_row(k_row, q + in(b, i, h), hd) - lse[r0 + i]);
    p[i] = pij;
    ds[i] = pij * (dot_row(v_row, dout + out(b, i, h), hd) - delta[r0 + i]);
  }
  __syncthreads();
  for (int e = threadIdx.x; e < hd; e += blockDim.x) {
    float acc_v = 0.0f, acc_k = 0.0f;
    for (int i = j; i < seq; ++i) {
      acc_v += p[i] * __bfloat162float(dout[out(b, i, h) + e]);
      acc_k += ds[i] * __bfloat162float(q[in(b, i, h) + e]);
    }
    dv[in(b, j, h) + e] = __float2bfloat16(acc_v);
    dk[in(b, j, h) + e] = __float2bfloat16(acc_k * scale);
  }
}

constexpr std::size_t kMaxShared = 48 * 1024;

}  // namespace

void check_attention_shape(const AttentionShape& s) {
  MOEPLAN_REQUIRE(s.batch > 0 && s.batch <= 65535, "batch=", s.batch);
  MOEPLAN_REQUIRE(s.heads > 0 && s.heads <= 65535, "heads=", s.heads);
  MOEPLAN_REQUIRE(s.seq > 0, "seq=", s.seq);
  MOEPLAN_REQUIRE(s.head_dim > 0 && s.head_dim % 8 == 0 && s.head_dim <= 256,
                  "head_dim=", s.head_dim, " (a multiple of 8, at most 256)");
  MOEPLAN_REQUIRE(s.ld_qkv >= s.heads * s.head_dim, "ld_qkv=", s.ld_qkv);
  MOEPLAN_REQUIRE(s.ld_out >= s.heads * s.head_dim, "ld_out=", s.ld_out);
}

void attention_reference_forward(const AttentionShape& s, const bf16* q, const bf16* k,
                                 const bf16* v, bf16* out, float* lse, cudaStream_t stream) {
  check_attention_shape(s);
  const std::size_t shared = (s.head_dim + s.seq) * sizeof(float);
  MOEPLAN_REQUIRE(shared <= kMaxShared, "seq=", s.seq, " too long for the reference kernel");
  const Index in{s.ld_qkv, static_cast<int>(s.seq), static_cast<int>(s.heads),
                 static_cast<int>(s.head_dim)};
  const Index o{s.ld_out, in.seq, in.heads, in.hd};
  const dim3 grid(static_cast<unsigned>(s.seq), static_cast<unsigned>(s.heads),
                  static_cast<unsigned>(s.batch));
  forward_kernel<<<grid, kThreads, shared, stream>>>(q, k, v, out, lse, in, o, s.scale());
  CUDA_CHECK_LAUNCH();
}

void attention_reference_backward(const AttentionShape& s, const bf16* q, const bf16* k,
                                  const bf16* v, const bf16* out, const bf16* dout,
                                  const float* lse, float* delta, bf16* dq, bf16* dk, bf16* dv,
                                  cudaStream_t stream) {
  check_attention_shape(s);
  const std::size_t shared = (2 * s.head_dim + 2 * s.seq) * sizeof(float);
  MOEPLAN_REQUIRE(shared <= kMaxShared, "seq=", s.seq, " too long for the reference kernel");
  const Index in{s.ld_qkv, static_cast<int>(s.seq), static_cast<int>(s.heads),
                 static_cast<int>(s.head_dim)};
  const Index o{s.ld_out, in.seq, in.heads, in.hd};
  const dim3 grid(static_cast<unsigned>(s.seq), static_cast<unsigned>(s.heads),
                  static_cast<unsigned>(s.batch));
  delta_kernel<<<grid, 32, 0, stream>>>(out, dout, delta, o);
  CUDA_CHECK_LAUNCH();
  dq_kernel<<<grid, kThreads, (2 * s.head_dim + s.seq) * sizeof(float), stream>>>(
      q, k, v, dout, lse, delta, dq, in, o, s.scale());
  CUDA_CHECK_LAUNCH();
  dkdv_kernel<<<grid, kThreads, shared, stream>>>(q, k, v, dout, lse, delta, dk, dv, in, o,
                                                  s.scale());
  CUDA_CHECK_LAUNCH();
}

}  // namespace moeplan::cuda
