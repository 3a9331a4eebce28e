// RMSNorm and fused QK-norm + RoPE kernels against double-precision loops.
#include <gtest/gtest.h>

#include "tests/gpu/gpu_testing.h"
#include "verify/cuda/norm.cuh"
#include "verify/cuda/rope.cuh"
#include "verify/model_layout.h"

namespace moeplan::cuda::testing {
namespace {

constexpr double kEps = verify::kRmsNormEps;

// y = x·r·g and the backward for one row of width d.
void rmsnorm_row(const float* x, const float* g, int d, double* y, double* r) {
  double ss = 0;
  for (int i = 0; i < d; ++i) ss += double(x[i]) * x[i];
  *r = 1.0 / std::sqrt(ss / d + kEps);
  for (int i = 0; i < d; ++i) y[i] = x[i] * *r * g[i];
}
void rmsnorm_row_backward(const float* x, const float* g, const double* dy, int d, double* dx,
                          double* dg) {
  double ss = 0;
  for (int i = 0; i < d; ++i) ss += double(x[i]) * x[i];
  const double r = 1.0 / std::sqrt(ss / d + kEps);
  double dot = 0;
  for (int i = 0; i < d; ++i) dot += dy[i] * g[i] * x[i] * r;
  dot /= d;
  for (int i = 0; i < d; ++i) {
    dx[i] = r * (dy[i] * g[i] - x[i] * r * dot);
    dg[i] += dy[i] * x[i] * r;
  }
}

TEST(GpuNorm, RmsNormForwardBackwardMatchesDouble) {
  SKIP_WITHOUT_GPU();
  for (const int rows : {1, 17, 127}) {
    for (const int d : {16, 96, 1000}) {
      const auto x = random_vector(std::size_t(rows) * d, 1, 1.0, false);
      const auto g = random_vector(d, 2, 0.5, false);
      const auto dy = random_vector(std::size_t(rows) * d, 3, 1.0, false);
      const auto resid = random_vector(std::size_t(rows) * d, 4, 1.0, false);
      auto dx_d = to_device(x), dg_d = to_device(g), ddy = to_device(dy), dres = to_device(resid);
      DeviceBuffer<bf16> y(x.size());
      DeviceBuffer<float> rstd(rows), dx(x.size()), dgain(d);
      dgain.zero();
      rmsnorm_forward(dx_d.get(), dg_d.get(), y.get(), rstd.get(), rows, d, nullptr);
      rmsnorm_backward(dx_d.get(), dg_d.get(), rstd.get(), ddy.get(), dres.get(), dx.get(),
                       dgain.get(), rows, d, nullptr);
      std::vector<double> want_y(x.size()), want_dx(x.size()), want_dg(d, 0.0), dyd(dy.begin(), dy.end());
      for (int t = 0; t < rows; ++t) {
        double r;
        rmsnorm_row(&x[std::size_t(t) * d], g.data(), d, &want_y[std::size_t(t) * d], &r);
        rmsnorm_row_backward(&x[std::size_t(t) * d], g.data(), &dyd[std::size_t(t) * d], d,
                             &want_dx[std::size_t(t) * d], want_dg.data());
      }
      for (std::size_t i = 0; i < x.size(); ++i) want_dx[i] += resid[i];
      expect_close(to_host_float(y), want_y, kBf16Rtol, kBf16Atol, "rmsnorm y");
      expect_close(to_host(dx), want_dx, 1e-4, 1e-4, "rmsnorm dx");
      expect_close(to_host(dgain), want_dg, 1e-4, 1e-3, "rmsnorm dgain");
    }
  }
}

// torch_moe_ref.rope after a per-head RMSNorm; positions t % seq.
void qk_rope_reference(const std::vector<float>& qkv, const std::vector<float>& gq,
                       const std::vector<float>& gk, const QkvShape& s, std::vector<double>& out) {
  const int H = int(s.heads), hd = int(s.head_dim), d = H * hd;
  out.assign(qkv.begin(), qkv.end());
  std::vector<double> y(hd);
  for (std::int64_t t = 0; t < s.tokens(); ++t)
    for (int part = 0; part < 2; ++part)
      for (int h = 0; h < H; ++h) {
        const std::size_t base = std::size_t(t) * 3 * d + std::size_t(part) * d + std::size_t(h) * hd;
        double r;
        rmsnorm_row(&qkv[base], part == 0 ? gq.data() : gk.data(), hd, y.data(), &r);
        const double pos = double(t % s.seq);
        for (int i = 0; i < hd / 2; ++i) {
          const double inv = 1.0 / std::pow(verify::kRopeBase, 2.0 * i / hd);
          const double c = std::cos(pos * inv), sn = std::sin(pos * inv);
          out[base + 2 * i] = y[2 * i] * c - y[2 * i + 1] * sn;
          out[base + 2 * i + 1] = y[2 * i] * sn + y[2 * i + 1] * c;
        }
      }
}

TEST(GpuRope, QkNormRopeForwardMatchesDoubleAndBackwardIsItsAdjoint) {
  SKIP_WITHOUT_GPU();
  for (const auto shape : {QkvShape{1, 1, 1, 16}, QkvShape{2, 17, 3, 32}, QkvShape{1, 127, 2, 64}}) {
    const std::size_t n = std::size_t(shape.tokens() * 3 * shape.d());
    const auto qkv = random_vector(n, 5);
    const auto gq = random_vector(std::size_t(shape.head_dim), 6, 0.5, false);
    const auto gk = random_vector(std::size_t(shape.head_dim), 7, 0.5, false);
    auto dqkv_in = to_device_bf16(qkv);
    auto dgq = to_device(gq), dgk = to_device(gk);
    DeviceBuffer<bf16> out(n), dqkv(n);
    DeviceBuffer<float> rstd(std::size_t(shape.tokens() * 2 * shape.heads));
    DeviceBuffer<float> ggq(std::size_t(shape.head_dim)), ggk(std::size_t(shape.head_dim));
    ggq.zero();
    ggk.zero();
    qk_norm_rope_forward(dqkv_in.get(), dgq.get(), dgk.get(), out.get(), rstd.get(), shape, nullptr);
    std::vector<double> want;
    qk_rope_reference(qkv, gq, gk, shape, want);
    expect_close(to_host_float(out), want, kBf16Rtol, kBf16Atol, "qk_norm_rope out");
    // Backward against central finite differences of the double reference along a random
    // direction: <dout, J·v> == <Jᵀ·dout, v>.
    const auto dout = random_vector(n, 8);
    auto ddout = to_device_bf16(dout);
    qk_norm_rope_backward(dqkv_in.get(), dgq.get(), dgk.get(), rstd.get(), ddout.get(), dqkv.get(),
                          ggq.get(), ggk.get(), shape, nullptr);
    const auto grad = to_host_float(dqkv);
    const auto dir = random_vector(n, 9, 1.0, false);
    const double h = 1e-3;
    std::vector<float> plus(qkv), minus(qkv);
    for (std::size_t i = 0; i < n; ++i) {
      plus[i] += float(h * dir[i]);
      minus[i] -= float(h * dir[i]);
    }
    std::vector<double> yp, ym;
    qk_rope_reference(plus, gq, gk, shape, yp);
    qk_rope_reference(minus, gq, gk, shape, ym);
    double fd = 0, an = 0;
    for (std::size_t i = 0; i < n; ++i) {
      fd += dout[i] * (yp[i] - ym[i]) / (2 * h);
      an += double(grad[i]) * dir[i];
    }
    EXPECT_NEAR(an, fd, 3e-2 * (std::abs(fd) + 1.0)) << "tokens " << shape.tokens();
  }
}

}  // namespace
}  // namespace moeplan::cuda::testing
