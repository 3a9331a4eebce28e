// GEMM layouts, routing (softmax/top-K, permutation, aux loss, combine and their backward) and the
// grouped expert GEMMs against double-precision loops. Awkward shapes: T = 1, 17, 127; E = 5, K = 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "tests/gpu/gpu_testing.h"
#include "verify/cuda/experts.cuh"
#include "verify/cuda/matmul.cuh"
#include "verify/cuda/router.cuh"

namespace moeplan::cuda::testing {
namespace {

TEST(GpuMatmul, LinearForwardInputAndWeightGradients) {
  SKIP_WITHOUT_GPU();
  Blas blas;
  for (const auto [n, in, out] : {std::array<int, 3>{1, 16, 8}, {17, 64, 40}, {127, 96, 200}}) {
    const auto x = random_vector(std::size_t(n) * in, 1);
    const auto w = random_vector(std::size_t(out) * in, 2);
    const auto dy = random_vector(std::size_t(n) * out, 3);
    const auto dw0 = random_vector(std::size_t(out) * in, 4, 1.0, false);
    auto dx_ = to_device_bf16(x), dw_ = to_device_bf16(w), ddy = to_device_bf16(dy);  // bf16
    DeviceBuffer<float> y(std::size_t(n) * out), dxo(std::size_t(n) * in);
    auto dW = to_device(dw0);
    linear_forward(blas, dx_.get(), dw_.get(), y.get(), OutType::kFp32, n, in, out);
    linear_backward_input(blas, ddy.get(), dw_.get(), dxo.get(), OutType::kFp32, n, in, out);
    linear_backward_weight(blas, ddy.get(), dx_.get(), dW.get(), n, in, out);
    std::vector<double> wy(std::size_t(n) * out, 0), wdx(std::size_t(n) * in, 0), wdw(dw0.begin(), dw0.end());
    for (int t = 0; t < n; ++t)
      for (int o = 0; o < out; ++o)
        for (int i = 0; i < in; ++i) {
          wy[std::size_t(t) * out + o] += double(x[std::size_t(t) * in + i]) * w[std::size_t(o) * in + i];
          wdx[std::size_t(t) * in + i] += double(dy[std::size_t(t) * out + o]) * w[std::size_t(o) * in + i];
          wdw[std::size_t(o) * in + i] += double(dy[std::size_t(t) * out + o]) * x[std::size_t(t) * in + i];
        }
    // Inputs are bf16-exact and accumulation is fp32: only summation order differs.
    expect_close(to_host(y), wy, 1e-4, 1e-3, "y");
    expect_close(to_host(dxo), wdx, 1e-4, 1e-3, "dx");
    expect_close(to_host(dW), wdw, 1e-4, 1e-3, "dW");
  }
}

struct RouteRef {
  std::vector<double> probs, lse;
  std::vector<int> expert;
  std::vector<double> weight;
  std::vector<int> counts;
  double aux = 0, z_sum = 0;
};

RouteRef route_reference(const std::vector<float>& logits, int T, int E, int K) {
  RouteRef r;
  r.probs.resize(std::size_t(T) * E);
  r.lse.resize(T);
  r.counts.assign(E, 0);
  for (int t = 0; t < T; ++t) {
    const float* z = &logits[std::size_t(t) * E];
    const double m = *std::max_element(z, z + E);
    double s = 0;
    for (int i = 0; i < E; ++i) s += std::exp(z[i] - m);
    r.lse[t] = m + std::log(s);
    r.z_sum += r.lse[t] * r.lse[t];
    for (int i = 0; i < E; ++i) r.probs[std::size_t(t) * E + i] = std::exp(z[i] - r.lse[t]);
    std::vector<int> order(E);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return r.probs[std::size_t(t) * E + a] > r.probs[std::size_t(t) * E + b];
    });
    for (int k = 0; k < K; ++k) {
      r.expert.push_back(order[k]);
      r.weight.push_back(r.probs[std::size_t(t) * E + order[k]]);
      ++r.counts[order[k]];
    }
  }
  for (int i = 0; i < E; ++i) {
    double P = 0;
    for (int t = 0; t < T; ++t) P += r.probs[std::size_t(t) * E + i];
    r.aux += E * (double(r.counts[i]) / (T * K)) * (P / T);
  }
  return r;
}

TEST(GpuRouter, RoutingCombineAndBackwardMatchDouble) {
  SKIP_WITHOUT_GPU();
  const int E = 5, K = 2, d = 24;
  for (const int T : {1, 17, 127}) {
    const RouteShape shape{T, E, K};
    const int N = T * K;
    const auto logits = random_vector(std::size_t(T) * E, 11, 2.0, false);
    const RouteRef ref = route_reference(logits, T, E, K);
    auto dlog = to_device(logits);
    DeviceBuffer<float> probs(std::size_t(T) * E), lse(T), weight(N);
    DeviceBuffer<std::int32_t> expert(N), counts(E), offsets(E + 1), rank(N), slot(N), tok(N);
    DeviceBuffer<double> sums(2);
    sums.zero();
    router_softmax_topk(dlog.get(), probs.get(), lse.get(), expert.get(), weight.get(),
                        sums.get() + 1, shape, nullptr);
    route_permutation(expert.get(), counts.get(), offsets.get(), rank.get(), slot.get(), tok.get(),
                      shape, nullptr);
    router_aux_loss(probs.get(), counts.get(), sums.get(), shape, nullptr);
    expect_close(to_host(probs), ref.probs, kFp32Rtol, 1e-6, "probs");
    expect_close(to_host(weight), ref.weight, kFp32Rtol, 1e-6, "weight");
    const auto got_expert = to_host(expert);
    for (int a = 0; a < N; ++a) EXPECT_EQ(got_expert[a], ref.expert[a]) << "assignment " << a;
    const auto got_counts = to_host(counts);
    for (int e = 0; e < E; ++e) EXPECT_EQ(got_counts[e], ref.counts[e]) << "expert " << e;
    const auto s = to_host(sums);
    EXPECT_NEAR(s[0], ref.aux, 1e-5);
    EXPECT_NEAR(s[1], ref.z_sum, 1e-4 * (1 + ref.z_sum));
    // Permutation: stable expert-contiguous order, slot/token_of_row inverse of each other.
    const auto got_slot = to_host(slot), got_tok = to_host(tok), got_off = to_host(offsets);
    std::vector<int> order(N);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return ref.expert[a] < ref.expert[b]; });
    for (int row = 0; row < N; ++row) {
      EXPECT_EQ(got_slot[order[row]], row);
      EXPECT_EQ(got_tok[row], order[row] / K);
    }
    EXPECT_EQ(got_off[E], N);

    // Combine and its backward, then the router backward.
    const auto x = random_vector(std::size_t(T) * d, 12);
    const auto ys = random_vector(std::size_t(N) * d, 13, 1.0, false);
    const auto resid = random_vector(std::size_t(T) * d, 14, 1.0, false);
    const auto dout = random_vector(std::size_t(T) * d, 15, 1.0, false);
    auto dx_ = to_device_bf16(x);
    auto dys_in = to_device(ys), dres = to_device(resid), ddout = to_device(dout);
    DeviceBuffer<bf16> xs(std::size_t(N) * d), dys(std::size_t(N) * d);
    DeviceBuffer<float> out(std::size_t(T) * d), gate_grad(N);
    gather_rows(dx_.get(), tok.get(), xs.get(), N, d, nullptr);
    moe_combine(dres.get(), dys_in.get(), weight.get(), slot.get(), out.get(), shape, d, nullptr);
    moe_combine_backward(ddout.get(), dys_in.get(), weight.get(), slot.get(), dys.get(),
                         gate_grad.get(), shape, d, nullptr);
    std::vector<double> want_xs(std::size_t(N) * d), want_out(resid.begin(), resid.end()),
        want_dys(std::size_t(N) * d), want_gg(N, 0.0);
    for (int a = 0; a < N; ++a) {
      const int t = a / K, row = got_slot[a];
      for (int i = 0; i < d; ++i) {
        want_xs[std::size_t(row) * d + i] = x[std::size_t(t) * d + i];
        want_out[std::size_t(t) * d + i] += ref.weight[a] * ys[std::size_t(row) * d + i];
        want_dys[std::size_t(row) * d + i] = ref.weight[a] * dout[std::size_t(t) * d + i];
        want_gg[a] += double(dout[std::size_t(t) * d + i]) * ys[std::size_t(row) * d + i];
      }
    }
    expect_close(to_host_float(xs), want_xs, 0, 0, "gathered rows");
    expect_close(to_host(out), want_out, 1e-5, 1e-5, "combine");
    expect_close(to_host_float(dys), want_dys, kBf16Rtol, kBf16Atol, "dys");
    expect_close(to_host(gate_grad), want_gg, 1e-4, 1e-4, "gate grad");

    const float aux_coef = 0.02f, z_coef = 1e-3f;
    DeviceBuffer<bf16> dlogits(std::size_t(T) * E);
    router_backward(probs.get(), lse.get(), expert.get(), gate_grad.get(), counts.get(), aux_coef,
                    z_coef, dlogits.get(), shape, nullptr);
    std::vector<double> want_dl(std::size_t(T) * E);
    for (int t = 0; t < T; ++t) {
      std::vector<double> dp(E);
      for (int i = 0; i < E; ++i) dp[i] = aux_coef * E * (double(ref.counts[i]) / N) / T;
      for (int k = 0; k < K; ++k) dp[ref.expert[t * K + k]] += want_gg[t * K + k];
      double dot = 0;
      for (int i = 0; i < E; ++i) dot += ref.probs[std::size_t(t) * E + i] * dp[i];
      for (int i = 0; i < E; ++i) {
        const double p = ref.probs[std::size_t(t) * E + i];
        want_dl[std::size_t(t) * E + i] = p * (dp[i] - dot) + z_coef * 2 * ref.lse[t] * p / T;
      }
    }
    expect_close(to_host_float(dlogits), want_dl, kBf16Rtol, 1e-3, "router dlogits");

    DeviceBuffer<float> dx_acc(std::size_t(T) * d);
    dx_acc.zero();
    const auto dxs = random_vector(std::size_t(N) * d, 16, 1.0, false);
    auto ddxs = to_device(dxs);
    scatter_add_rows(ddxs.get(), slot.get(), dx_acc.get(), shape, d, nullptr);
    std::vector<double> want_dx(std::size_t(T) * d, 0.0);
    for (int a = 0; a < N; ++a)
      for (int i = 0; i < d; ++i)
        want_dx[std::size_t(a / K) * d + i] += dxs[std::size_t(got_slot[a]) * d + i];
    expect_close(to_host(dx_acc), want_dx, 1e-5, 1e-5, "scatter add");
  }
}

TEST(GpuExperts, GroupedSwigluForwardBackwardMatchDouble) {
  SKIP_WITHOUT_GPU();
  Blas blas;
  const int E = 5, d = 32, h = 48;
  // Uneven groups, one empty expert.
  const std::vector<std::int32_t> offsets = {0, 3, 3, 20, 21, 37};
  const int N = offsets.back();
  const ExpertShape shape{E, d, h};
  const auto xs = random_vector(std::size_t(N) * d, 21);
  const auto w1 = random_vector(std::size_t(E) * d * h, 22, 0.2);
  const auto w3 = random_vector(std::size_t(E) * d * h, 23, 0.2);
  const auto w2 = random_vector(std::size_t(E) * h * d, 24, 0.2);
  const auto dys = random_vector(std::size_t(N) * d, 25);
  auto dxs_in = to_device_bf16(xs), dw1 = to_device_bf16(w1), dw3 = to_device_bf16(w3),
       dw2 = to_device_bf16(w2), ddys = to_device_bf16(dys);
  DeviceBuffer<bf16> gate(std::size_t(N) * h), up(std::size_t(N) * h), act(std::size_t(N) * h),
      dgate(std::size_t(N) * h), dup(std::size_t(N) * h);
  DeviceBuffer<float> ys(std::size_t(N) * d), dact(std::size_t(N) * h), dxs(std::size_t(N) * d);
  DeviceBuffer<float> g1(w1.size()), g3(w3.size()), g2(w2.size());
  g1.zero();
  g3.zero();
  g2.zero();
  const ExpertActivations a{dxs_in.get(), gate.get(), up.get(), act.get(), ys.get()};
  experts_forward(blas, dw1.get(), dw3.get(), dw2.get(), offsets, shape, a, nullptr);
  experts_backward(blas, dw1.get(), dw3.get(), dw2.get(), offsets, shape, a,
                   {ddys.get(), dact.get(), dgate.get(), dup.get(), dxs.get()}, g1.get(), g3.get(),
                   g2.get(), nullptr);
  // The reference rounds to bf16 where the kernels store bf16 (gate, up, act, dgate, dup) and is
  // double everywhere else. The weight gradients sum over an expert's rows with cancellation, so a
  // reference without those roundings differs from correct kernels by more than the bf16 tolerance.
  const auto bf = [](double v) { return double(round_bf16(float(v))); };
  std::vector<double> want_ys(std::size_t(N) * d, 0), want_dxs(std::size_t(N) * d, 0),
      want_g1(w1.size(), 0), want_g3(w3.size(), 0), want_g2(w2.size(), 0);
  for (int e = 0; e < E; ++e)
    for (int r = offsets[e]; r < offsets[e + 1]; ++r) {
      std::vector<double> gg(h, 0), uu(h, 0), aa(h), da(h, 0);
      for (int j = 0; j < h; ++j) {
        for (int i = 0; i < d; ++i) {
          gg[j] += double(xs[std::size_t(r) * d + i]) * w1[(std::size_t(e) * d + i) * h + j];
          uu[j] += double(xs[std::size_t(r) * d + i]) * w3[(std::size_t(e) * d + i) * h + j];
        }
        gg[j] = bf(gg[j]);  // gate, up: bf16 GEMM outputs
        uu[j] = bf(uu[j]);
      }
      for (int j = 0; j < h; ++j) aa[j] = bf(gg[j] / (1 + std::exp(-gg[j])) * uu[j]);  // act: bf16
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < h; ++j) {
          want_ys[std::size_t(r) * d + i] += aa[j] * w2[(std::size_t(e) * h + j) * d + i];
          da[j] += double(dys[std::size_t(r) * d + i]) * w2[(std::size_t(e) * h + j) * d + i];
          want_g2[(std::size_t(e) * h + j) * d + i] += aa[j] * dys[std::size_t(r) * d + i];
        }
      for (int j = 0; j < h; ++j) {  // dact stays fp32 (unrounded here); dgate, dup: bf16
        const double sg = 1 / (1 + std::exp(-gg[j]));
        const double dg = bf(da[j] * uu[j] * sg * (1 + gg[j] * (1 - sg)));
        const double du = bf(da[j] * gg[j] * sg);
        for (int i = 0; i < d; ++i) {
          want_dxs[std::size_t(r) * d + i] += dg * w1[(std::size_t(e) * d + i) * h + j] +
                                              du * w3[(std::size_t(e) * d + i) * h + j];
          want_g1[(std::size_t(e) * d + i) * h + j] += xs[std::size_t(r) * d + i] * dg;
          want_g3[(std::size_t(e) * d + i) * h + j] += xs[std::size_t(r) * d + i] * du;
        }
      }
    }
  expect_close(to_host(ys), want_ys, kBf16Rtol, kBf16Atol, "expert ys");
  expect_close(to_host(dxs), want_dxs, kBf16Rtol, kBf16Atol, "expert dxs");
  expect_close(to_host(g1), want_g1, kBf16Rtol, kBf16Atol, "dw1");
  expect_close(to_host(g3), want_g3, kBf16Rtol, kBf16Atol, "dw3");
  expect_close(to_host(g2), want_g2, kBf16Rtol, kBf16Atol, "dw2");
}

}  // namespace
}  // namespace moeplan::cuda::testing
