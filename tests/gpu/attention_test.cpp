// Causal attention: the reference kernels against double loops, and the cuDNN graph (when it
// builds on this device) against the reference kernels. Layout as the model uses it: q|k|v read
// from one (T, 3d) buffer, output (T, d).
#include <gtest/gtest.h>

#include "tests/gpu/gpu_testing.h"
#include "verify/cuda/attention.cuh"
#include "verify/cuda/attention_cudnn.cuh"

namespace moeplan::cuda::testing {
namespace {

struct AttnRef {
  std::vector<double> out, lse, dqkv;  // out (T, d), lse (B, H, S), dqkv (T, 3d)
};

AttnRef attention_reference(const std::vector<float>& qkv, const std::vector<float>& dout,
                            const AttentionShape& s) {
  const int B = int(s.batch), S = int(s.seq), H = int(s.heads), hd = int(s.head_dim), d = H * hd;
  const double scale = 1.0 / std::sqrt(double(hd));
  AttnRef r;
  r.out.assign(std::size_t(B) * S * d, 0);
  r.lse.assign(std::size_t(B) * H * S, 0);
  r.dqkv.assign(std::size_t(B) * S * 3 * d, 0);
  auto at = [&](const auto& buf, int b, int t, int part, int h, int e) {
    return double(buf[(std::size_t(b) * S + t) * 3 * d + std::size_t(part) * d + std::size_t(h) * hd + e]);
  };
  auto dat = [&](int b, int t, int part, int h, int e) -> double& {
    return r.dqkv[(std::size_t(b) * S + t) * 3 * d + std::size_t(part) * d + std::size_t(h) * hd + e];
  };
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < S; ++i) {
        std::vector<double> p(i + 1), dp(i + 1);
        double m = -1e300;
        for (int j = 0; j <= i; ++j) {
          double sc = 0;
          for (int e = 0; e < hd; ++e) sc += at(qkv, b, i, 0, h, e) * at(qkv, b, j, 1, h, e);
          p[j] = sc * scale;
          m = std::max(m, p[j]);
        }
        double sum = 0;
        for (auto& x : p) sum += (x = std::exp(x - m));
        for (auto& x : p) x /= sum;
        r.lse[(std::size_t(b) * H + h) * S + i] = m + std::log(sum);
        std::vector<double> o(hd, 0);
        for (int j = 0; j <= i; ++j)
          for (int e = 0; e < hd; ++e) o[e] += p[j] * at(qkv, b, j, 2, h, e);
        double D = 0;
        for (int e = 0; e < hd; ++e) {
          r.out[(std::size_t(b) * S + i) * d + std::size_t(h) * hd + e] = o[e];
          D += o[e] * dout[(std::size_t(b) * S + i) * d + std::size_t(h) * hd + e];
        }
        for (int j = 0; j <= i; ++j) {
          double dpj = 0;
          for (int e = 0; e < hd; ++e)
            dpj += double(dout[(std::size_t(b) * S + i) * d + std::size_t(h) * hd + e]) * at(qkv, b, j, 2, h, e);
          const double ds = p[j] * (dpj - D);
          for (int e = 0; e < hd; ++e) {
            dat(b, i, 0, h, e) += scale * ds * at(qkv, b, j, 1, h, e);
            dat(b, j, 1, h, e) += scale * ds * at(qkv, b, i, 0, h, e);
            dat(b, j, 2, h, e) += p[j] * dout[(std::size_t(b) * S + i) * d + std::size_t(h) * hd + e];
          }
        }
      }
  return r;
}

struct AttnRun {
  std::vector<float> out, lse, dqkv;
};

AttnRun run_attention(AttentionPath path, const std::vector<float>& qkv,
                      const std::vector<float>& dout, const AttentionShape& s) {
  const std::int64_t d = s.heads * s.head_dim, T = s.batch * s.seq;
  auto dqkv_in = to_device_bf16(qkv), ddout = to_device_bf16(dout);
  DeviceBuffer<bf16> out(std::size_t(T * d)), dqkv(std::size_t(T * 3 * d));
  DeviceBuffer<float> lse(std::size_t(s.batch * s.heads * s.seq));
  Attention attention(path);
  const bf16* q = dqkv_in.get();
  attention.forward(s, q, q + d, q + 2 * d, out.get(), lse.get(), nullptr);
  attention.backward(s, q, q + d, q + 2 * d, out.get(), ddout.get(), lse.get(), dqkv.get(),
                     dqkv.get() + d, dqkv.get() + 2 * d, nullptr);
  return {to_host_float(out), to_host(lse), to_host_float(dqkv)};
}

const AttentionShape kShapes[] = {
    {1, 1, 1, 16, 3 * 16, 16}, {2, 17, 3, 32, 3 * 96, 96}, {1, 127, 2, 64, 3 * 128, 128}};

TEST(GpuAttention, ReferenceKernelsMatchDouble) {
  SKIP_WITHOUT_GPU();
  for (const auto& s : kShapes) {
    const std::int64_t d = s.heads * s.head_dim, T = s.batch * s.seq;
    const auto qkv = random_vector(std::size_t(T * 3 * d), 31);
    const auto dout = random_vector(std::size_t(T * d), 32);
    const auto want = attention_reference(qkv, dout, s);
    const auto got = run_attention(AttentionPath::kReference, qkv, dout, s);
    expect_close(got.out, want.out, kBf16Rtol, kBf16Atol, "out");
    expect_close(got.lse, want.lse, 1e-4, 1e-4, "lse");
    expect_close(got.dqkv, want.dqkv, kBf16Rtol, kBf16Atol, "dqkv");
  }
}

TEST(GpuAttention, CudnnGraphMatchesReferenceKernels) {
  SKIP_WITHOUT_GPU();
  const AttentionShape probe = kShapes[1];
  try {
    CudnnAttention graph(probe);
  } catch (const Error& e) {
    GTEST_SKIP() << "cuDNN attention graph unavailable here: " << e.what();
  }
  for (const auto& s : kShapes) {
    const std::int64_t d = s.heads * s.head_dim, T = s.batch * s.seq;
    const auto qkv = random_vector(std::size_t(T * 3 * d), 33);
    const auto dout = random_vector(std::size_t(T * d), 34);
    const auto want = run_attention(AttentionPath::kReference, qkv, dout, s);
    const auto got = run_attention(AttentionPath::kCudnn, qkv, dout, s);
    expect_close(got.out, want.out, kBf16Rtol, kBf16Atol, "cudnn out");
    expect_close(got.lse, want.lse, 1e-3, 1e-3, "cudnn lse");
    expect_close(got.dqkv, want.dqkv, kBf16Rtol, kBf16Atol, "cudnn dqkv");
  }
}

}  // namespace
}  // namespace moeplan::cuda::testing
