// Cross-entropy, embedding and AdamW kernels against double loops.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/gpu/gpu_testing.h"
#include "verify/cuda/adamw.cuh"
#include "verify/cuda/encoder.cuh"
#include "verify/cuda/loss.cuh"

namespace moeplan::cuda::testing {
namespace {

TEST(GpuLoss, CrossEntropyValueAndGradient) {
  SKIP_WITHOUT_GPU();
  for (const int T : {1, 17, 127}) {
    for (const int V : {7, 1000, 5003}) {
      const auto logits = random_vector(std::size_t(T) * V, 41, 3.0);
      std::vector<std::int32_t> targets(T);
      for (int t = 0; t < T; ++t) targets[t] = (t * 7919 + 13) % V;
      auto dl = to_device_bf16(logits);
      auto dt = to_device(targets);
      DeviceBuffer<float> losses(T);
      DeviceBuffer<double> sum(1);
      sum.zero();
      const float scale = 0.37f;
      cross_entropy(dl.get(), dt.get(), losses.get(), sum.get(), T, V, scale, nullptr);
      std::vector<double> want_loss(T), want_grad(std::size_t(T) * V);
      double total = 0;
      for (int t = 0; t < T; ++t) {
        const float* z = &logits[std::size_t(t) * V];
        const double m = *std::max_element(z, z + V);
        double s = 0;
        for (int j = 0; j < V; ++j) s += std::exp(z[j] - m);
        const double lse = m + std::log(s);
        want_loss[t] = lse - z[targets[t]];
        total += want_loss[t];
        for (int j = 0; j < V; ++j)
          want_grad[std::size_t(t) * V + j] = (std::exp(z[j] - lse) - (j == targets[t])) * scale;
      }
      expect_close(to_host(losses), want_loss, 1e-5, 1e-4, "losses");
      EXPECT_NEAR(to_host(sum)[0], total, 1e-4 * (1 + std::abs(total)));
      expect_close(to_host_float(dl), want_grad, kBf16Rtol, 1e-4, "dlogits");
    }
  }
}

TEST(GpuEncoder, EmbeddingLookupAndScatterAdd) {
  SKIP_WITHOUT_GPU();
  const int V = 11, d = 40, T = 17;
  const auto table = random_vector(std::size_t(V) * d, 51, 1.0, false);
  const auto dx = random_vector(std::size_t(T) * d, 52, 1.0, false);
  std::vector<std::int32_t> ids(T);
  for (int t = 0; t < T; ++t) ids[t] = (t * 3) % V;  // repeats
  auto dtab = to_device(table), ddx = to_device(dx);
  auto dids = to_device(ids);
  DeviceBuffer<float> x(std::size_t(T) * d), dtable(table.size());
  dtable.zero();
  embedding_forward(dids.get(), dtab.get(), x.get(), T, d, nullptr);
  embedding_backward(dids.get(), ddx.get(), dtable.get(), T, d, nullptr);
  std::vector<double> want_x(std::size_t(T) * d), want_dt(table.size(), 0);
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < d; ++i) {
      want_x[std::size_t(t) * d + i] = table[std::size_t(ids[t]) * d + i];
      want_dt[std::size_t(ids[t]) * d + i] += dx[std::size_t(t) * d + i];
    }
  expect_close(to_host(x), want_x, 0, 0, "embedding");
  expect_close(to_host(dtable), want_dt, kFp32Rtol, kFp32Atol, "embedding grad");
}

TEST(GpuAdamW, NormClipAndUpdateMatchTorchSemantics) {
  SKIP_WITHOUT_GPU();
  const std::size_t n = 100003;
  auto p = random_vector(n, 61, 1.0, false), g = random_vector(n, 62, 0.1, false);
  auto m = random_vector(n, 63, 0.01, false), v = random_vector(n, 64, 0.01, false);
  for (auto& x : v) x = x * x;
  auto dp = to_device(p), dg = to_device(g), dm = to_device(m), dv = to_device(v);
  DeviceBuffer<bf16> p16(n);
  DeviceBuffer<double> norm_sq(1);
  norm_sq.zero();
  grad_norm_squared(dg.get(), std::int64_t(n), norm_sq.get(), nullptr);
  double want_sq = 0;
  for (auto x : g) want_sq += double(x) * x;
  EXPECT_NEAR(to_host(norm_sq)[0], want_sq, 1e-5 * want_sq);
  const int t = 3;
  AdamWStep s{1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, float(1 - std::pow(0.9, t)),
              float(1 - std::pow(0.95, t)), 0.5f};
  adamw_update(dp.get(), dg.get(), dm.get(), dv.get(), p16.get(), std::int64_t(n), s, nullptr);
  std::vector<double> wp(n), wm(n), wv(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double gi = double(g[i]) * s.grad_scale;
    wm[i] = 0.9 * m[i] + 0.1 * gi;
    wv[i] = 0.95 * v[i] + 0.05 * gi * gi;
    wp[i] = p[i] * (1 - 1e-3 * 0.1) -
            1e-3 * (wm[i] / s.bias_correction1) / (std::sqrt(wv[i] / s.bias_correction2) + 1e-8);
  }
  expect_close(to_host(dp), wp, kFp32Rtol, kFp32Atol, "params");
  expect_close(to_host(dm), wm, kFp32Rtol, 1e-7, "m");
  expect_close(to_host(dv), wv, kFp32Rtol, 1e-9, "v");
  expect_close(to_host_float(p16), wp, 4e-3, 1e-6, "bf16 copy");
  const auto g_after = to_host(dg);
  EXPECT_TRUE(std::all_of(g_after.begin(), g_after.end(), [](float x) { return x == 0.0f; }));
}

}  // namespace
}  // namespace moeplan::cuda::testing
