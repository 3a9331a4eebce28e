#pragma once
// Helpers for the GPU tests: device buffers from host vectors and back, bf16 rounding, the one
// tolerance per dtype, and the skip when there is no GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "verify/cuda/common.cuh"
#include "verify/cuda/device.h"

namespace moeplan::cuda::testing {

// One tolerance per dtype: |got − want| <= atol + rtol·|want|.
inline constexpr double kBf16Rtol = 2e-2, kBf16Atol = 2e-2;
inline constexpr double kFp32Rtol = 1e-5, kFp32Atol = 1e-5;
// Results that went through several bf16 roundings (whole layers, a training step).
inline constexpr double kStepRtol = 5e-2, kStepAtol = 5e-3;

#define SKIP_WITHOUT_GPU() \
  if (::moeplan::cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device"

inline float round_bf16(float x) { return __bfloat162float(__float2bfloat16(x)); }

inline std::vector<float> random_vector(std::size_t n, std::uint64_t seed, double stddev = 1.0,
                                        bool bf16_exact = true) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, stddev);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(normal(rng));
  if (bf16_exact)
    for (auto& x : v) x = round_bf16(x);
  return v;
}

template <typename T>
DeviceBuffer<T> to_device(const std::vector<T>& host) {
  DeviceBuffer<T> d(host.size());
  CUDA_CHECK(cudaMemcpy(d.get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

inline DeviceBuffer<bf16> to_device_bf16(const std::vector<float>& host) {
  std::vector<bf16> h(host.size());
  for (std::size_t i = 0; i < host.size(); ++i) h[i] = __float2bfloat16(host[i]);
  return to_device(h);
}

template <typename T>
std::vector<T> to_host(const DeviceBuffer<T>& d) {
  CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<T> h(d.size());
  CUDA_CHECK(cudaMemcpy(h.data(), d.get(), d.size() * sizeof(T), cudaMemcpyDeviceToHost));
  return h;
}

inline std::vector<float> to_host_float(const DeviceBuffer<bf16>& d) {
  const auto h = to_host(d);
  std::vector<float> f(h.size());
  for (std::size_t i = 0; i < h.size(); ++i) f[i] = __bfloat162float(h[i]);
  return f;
}

// Compares element-wise and reports the first few mismatches with their index.
template <typename A, typename B>
void expect_close(const std::vector<A>& got, const std::vector<B>& want, double rtol, double atol,
                  const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int shown = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    if (!(std::abs(g - w) <= atol + rtol * std::abs(w))) {
      ADD_FAILURE() << what << "[" << i << "]: got " << g << ", want " << w;
      if (++shown >= 5) return;
    }
  }
}

}  // namespace moeplan::cuda::testing
