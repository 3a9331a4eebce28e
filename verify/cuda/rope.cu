#include "verify/cuda/rope.cuh"
#include "verify/cuda/reduce.cuh"
#include "verify/model_layout.h"

namespace moeplan::cuda {
namespace {

constexpr int kWarps = 8;

// The rotation of pair i at position pos, computed in fp32 like torch_moe_ref's cos/sin buffers.
__device__ inline void rope_angle(int pos, int pair, int head_dim, float* c, float* s) {
  const float inv_freq =
      1.0f / powf(static_cast<float>(verify::kRopeBase),
                  static_cast<float>(2 * pair) / static_cast<float>(head_dim));
  sincosf(static_cast<float>(pos) * inv_freq, s, c);
}

// Offset of the (token t, part, head h) row of hd values in qkv (T, 3, H, hd).
__device__ inline std::int64_t row_offset(std::int64_t t, int part, int h, int heads, int hd) {
  return t * 3 * heads * hd + static_cast<std::int64_t>(part) * heads * hd +
         static_cast<std::int64_t>(h) * hd;
}

// The gradient of pair i of a row (at `base`) rotated back by its angle at pos: dL/dn.
__device__ inline float2 rotated_back(const bf16* dout, std::int64_t base, int pos, int i,
                                      int hd) {
  float c, s;
  rope_angle(pos, i, hd, &c, &s);
  const float da = __bfloat162float(dout[base + 2 * i]);
  const float db = __bfloat162float(dout[base + 2 * i + 1]);
  return make_float2(da * c + db * s, -da * s + db * c);
}

// One warp per (token, part, head) row; part 0 = q, 1 = k, 2 = v.
__global__ void qk_norm_rope_forward_kernel(const bf16* __restrict__ qkv,
                                            const float* __restrict__ q_gain,
                                            const float* __restrict__ k_gain, bf16* __restrict__ out,
                                            float* __restrict__ rstd, std::int64_t tokens, int seq,
                                            int heads, int hd, float eps) {
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= tokens * 3 * heads) return;
  const std::int64_t t = row / (3 * heads);
  const int part = static_cast<int>((row / heads) % 3);
  const int h = static_cast<int>(row % heads);
  const std::int64_t base = row_offset(t, part, h, heads, hd);
  if (part == 2) {
    for (int e = lane; e < hd; e += 32) out[base + e] = qkv[base + e];
    return;
  }
  const float* gain = part == 0 ? q_gain : k_gain;
  float ss = 0.0f;
  for (int e = lane; e < hd; e += 32) {
    const float v = __bfloat162float(qkv[base + e]);
    ss += v * v;
  }
  const float r = rsqrtf(warp_sum(ss) / static_cast<float>(hd) + eps);
  const int pos = static_cast<int>(t % seq);
  for (int i = lane; i < hd / 2; i += 32) {
    const float a = __bfloat162float(qkv[base + 2 * i]) * r * gain[2 * i];
    const float b = __bfloat162float(qkv[base + 2 * i + 1]) * r * gain[2 * i + 1];
    float c, s;
    rope_angle(pos, i, hd, &c, &s);
    out[base + 2 * i] = __float2bfloat16(a * c - b * s);
    out[base + 2 * i + 1] = __float2bfloat16(a * s + b * c);
  }
  if (lane == 0) rstd[(t * 2 + part) * heads + h] = r;
}

__global__ void qk_norm_rope_backward_kernel(const bf16* __restrict__ qkv,
                                             const float* __restrict__ q_gain,
                                             const float* __restrict__ k_gain,
                                             const float* __restrict__ rstd,
                                             const bf16* __restrict__ dout, bf16* __restrict__ dqkv,
                                             std::int64_t tokens, int seq, int heads, int hd) {
  const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= tokens * 3 * heads) return;
  const std::int64_t t = row / (3 * heads);
  const int part = static_cast<int>((row / heads) % 3);
  const int h = static_cast<int>(row % heads);
  const std::int64_t base = row_offset(t, part, h, heads, hd);
  if (part == 2) {
    for (int e = lane; e < hd; e += 32) dqkv[base + e] = dout[base + e];
    return;
  }
  const float* gain = part == 0 ? q_gain : k_gain;
  const float r = rstd[(t * 2 + part) * heads + h];
  const int pos = static_cast<int>(t % seq);
  // Pass 1: Σ dn⊙g⊙n over the row, dn = rotated-back gradient, n = x·r.
  float dot = 0.0f;
  for (int i = lane; i < hd / 2; i += 32) {
    const float2 dn = rotated_back(dout, base, pos, i, hd);
    dot += dn.x * gain[2 * i] * __bfloat162float(qkv[base + 2 * i]) * r +
           dn.y * gain[2 * i + 1] * __bfloat162float(qkv[base + 2 * i + 1]) * r;
  }
  dot = warp_sum(dot) / static_cast<float>(hd);
  for (int i = lane; i < hd / 2; i += 32) {
    const float2 rotated = rotated_back(dout, base, pos, i, hd);
    const float dn[2] = {rotated.x, rotated.y};
    for (int j = 0; j < 2; ++j) {
      const int e = 2 * i + j;
      const float n = __bfloat162float(qkv[base + e]) * r;
      dqkv[base + e] = __float2bfloat16(r * (dn[j] * gain[e] - n * dot));
    }
  }
}

// The q or k gain gradient's summand at (row = token·heads + head, e): dn_e·n_e, with dn the
// gradient rotated back and n = x·rstd, as in the kernel above.
struct GainGradient {
  const bf16* qkv;
  const bf16* dout;
  const float* rstd;
  int part, seq, heads, hd;
  __device__ float operator()(std::int64_t row, std::int64_t e) const {
    const std::int64_t t = row / heads;
    const int h = static_cast<int>(row % heads);
    const std::int64_t base = row_offset(t, part, h, heads, hd);
    const float r = rstd[(t * 2 + part) * heads + h];
    const float2 dn = rotated_back(dout, base, static_cast<int>(t % seq), static_cast<int>(e / 2), hd);
    const float n = __bfloat162float(qkv[base + e]) * r;
    return (e % 2 == 0 ? dn.x : dn.y) * n;
  }
};

void check_shape(const QkvShape& s) {
  MOEPLAN_REQUIRE(s.batch > 0 && s.seq > 0 && s.heads > 0, "batch=", s.batch, " seq=", s.seq,
                  " heads=", s.heads);
  MOEPLAN_REQUIRE(s.head_dim >= 2 && s.head_dim % 2 == 0 && s.head_dim <= 1024,
                  "head_dim=", s.head_dim);
}

}  // namespace

void qk_norm_rope_forward(const bf16* qkv, const float* q_gain, const float* k_gain, bf16* out,
                          float* rstd, const QkvShape& shape, cudaStream_t stream) {
  check_shape(shape);
  const std::int64_t rows = shape.tokens() * 3 * shape.heads;
  qk_norm_rope_forward_kernel<<<static_cast<unsigned>(ceil_div(rows, kWarps)), kWarps * 32, 0,
                                stream>>>(
      qkv, q_gain, k_gain, out, rstd, shape.tokens(), static_cast<int>(shape.seq),
      static_cast<int>(shape.heads), static_cast<int>(shape.head_dim),
      static_cast<float>(verify::kRmsNormEps));
  CUDA_CHECK_LAUNCH();
}

void qk_norm_rope_backward(const bf16* qkv, const float* q_gain, const float* k_gain,
                           const float* rstd, const bf16* dout, bf16* dqkv, float* dq_gain,
                           float* dk_gain, const QkvShape& shape, cudaStream_t stream) {
  check_shape(shape);
  const std::int64_t rows = shape.tokens() * 3 * shape.heads;
  MOEPLAN_REQUIRE(dqkv != dout, "dqkv and dout must differ (the gains are summed from dout after)");
  qk_norm_rope_backward_kernel<<<static_cast<unsigned>(ceil_div(rows, kWarps)), kWarps * 32, 0,
                                 stream>>>(qkv, q_gain, k_gain, rstd, dout, dqkv, shape.tokens(),
                                           static_cast<int>(shape.seq),
                                           static_cast<int>(shape.heads),
                                           static_cast<int>(shape.head_dim));
  CUDA_CHECK_LAUNCH();
  const std::int64_t gain_rows = shape.tokens() * shape.heads;
  for (int part = 0; part < 2; ++part)
    deterministic_column_sums(
        GainGradient{qkv, dout, rstd, part, static_cast<int>(shape.seq),
                     static_cast<int>(shape.heads), static_cast<int>(shape.head_dim)},
        gain_rows, shape.head_dim, part == 0 ? dq_gain : dk_gain, stream);
}

}  // namespace moeplan::cuda
