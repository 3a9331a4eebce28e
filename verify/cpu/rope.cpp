#include "verify/cpu/rope.h"

#include <cmath>

#include "verify/model_layout.h"

namespace moeplan::verify {

double rope_angle(std::int64_t position, std::int64_t pair, std::int64_t head_dim) {
  const double inv_freq =
      1.0 / std::pow(kRopeBase, static_cast<double>(2 * pair) / static_cast<double>(head_dim));
  return static_cast<double>(position) * inv_freq;
}

namespace {

// sign = +1 rotates by θ (forward), −1 by −θ (backward: Rᵀ).
template <typename S>
void rotate(MatOut<S> x, std::int64_t heads, std::int64_t seq, double sign) {
  const std::int64_t hd = x.cols() / heads;
  for (Eigen::Index t = 0; t < x.rows(); ++t) {
    const std::int64_t position = t % seq;
    for (std::int64_t i = 0; i < hd / 2; ++i) {
      const double theta = sign * rope_angle(position, i, hd);
      const S c = static_cast<S>(std::cos(theta)), s = static_cast<S>(std::sin(theta));
      for (std::int64_t h = 0; h < heads; ++h) {
        S& a = x(t, h * hd + 2 * i);
        S& b = x(t, h * hd + 2 * i + 1);
        const S a0 = a, b0 = b;
        a = a0 * c - b0 * s;
        b = a0 * s + b0 * c;
      }
    }
  }
}

}  // namespace

template <typename S>
void rope_forward(MatOut<S> x, std::int64_t heads, std::int64_t seq) {
  rotate<S>(x, heads, seq, 1.0);
}

template <typename S>
void rope_backward(MatOut<S> dx, std::int64_t heads, std::int64_t seq) {
  rotate<S>(dx, heads, seq, -1.0);
}

#define INSTANTIATE(S)                                                  \
  template void rope_forward<S>(MatOut<S>, std::int64_t, std::int64_t); \
  template void rope_backward<S>(MatOut<S>, std::int64_t, std::int64_t);
MOEPLAN_INSTANTIATE_FOR_SCALARS(INSTANTIATE)

}  // namespace moeplan::verify
