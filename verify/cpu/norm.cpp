#include "verify/cpu/norm.h"

#include <cmath>

#include "verify/model_layout.h"

namespace moeplan::verify {

template <typename S>
Mat<S> rmsnorm_forward(MatIn<S> x, VecIn<S> gain, Vec<S>* inv_rms) {
  const Eigen::Index n = x.rows(), d = x.cols();
  Mat<S> y(n, d);
  inv_rms->resize(n);
  for (Eigen::Index t = 0; t < n; ++t) {
    const S r = S(1) / std::sqrt(x.row(t).squaredNorm() / S(d) + S(kRmsNormEps));
    (*inv_rms)(t) = r;
    y.row(t) = x.row(t).cwiseProduct(gain.transpose()) * r;
  }
  return y;
}

template <typename S>
Mat<S> rmsnorm_backward(MatIn<S> x, VecIn<S> gain, VecIn<S> inv_rms, MatIn<S> dy, VecOut<S> dgain) {
  const Eigen::Index n = x.rows(), d = x.cols();
  Mat<S> dx(n, d);
  for (Eigen::Index t = 0; t < n; ++t) {
    const S r = inv_rms(t);
    dgain += (dy.row(t).cwiseProduct(x.row(t)) * r).transpose();
    const auto gdy = dy.row(t).cwiseProduct(gain.transpose());
    const S dot = gdy.dot(x.row(t));
    dx.row(t) = gdy * r - x.row(t) * (r * r * r * dot / S(d));
  }
  return dx;
}

template <typename S>
Mat<S> head_rmsnorm_forward(MatIn<S> x, std::int64_t heads, VecIn<S> gain, Vec<S>* inv_rms) {
  const Mat<S> rows = x;  // contiguous copy: (tokens, H·hd) has the memory of (tokens·H, hd)
  const Eigen::Map<const Mat<S>> per_head(rows.data(), x.rows() * heads, x.cols() / heads);
  Mat<S> y = rmsnorm_forward<S>(per_head, gain, inv_rms);
  return Eigen::Map<const Mat<S>>(y.data(), x.rows(), x.cols());
}

template <typename S>
Mat<S> head_rmsnorm_backward(MatIn<S> x, std::int64_t heads, VecIn<S> gain, VecIn<S> inv_rms,
                             MatIn<S> dy, VecOut<S> dgain) {
  const Mat<S> xs = x, dys = dy;
  const Eigen::Index rows = x.rows() * heads, hd = x.cols() / heads;
  Mat<S> dx = rmsnorm_backward<S>(Eigen::Map<const Mat<S>>(xs.data(), rows, hd), gain, inv_rms,
                                  Eigen::Map<const Mat<S>>(dys.data(), rows, hd), dgain);
  return Eigen::Map<const Mat<S>>(dx.data(), x.rows(), x.cols());
}

#define INSTANTIATE(S)                                                                           \
  template Mat<S> rmsnorm_forward<S>(MatIn<S>, VecIn<S>, Vec<S>*);                               \
  template Mat<S> rmsnorm_backward<S>(MatIn<S>, VecIn<S>, VecIn<S>, MatIn<S>, VecOut<S>);        \
  template Mat<S> head_rmsnorm_forward<S>(MatIn<S>, std::int64_t, VecIn<S>, Vec<S>*);            \
  template Mat<S> head_rmsnorm_backward<S>(MatIn<S>, std::int64_t, VecIn<S>, VecIn<S>, MatIn<S>, \
                                           VecOut<S>);
MOEPLAN_INSTANTIATE_FOR_SCALARS(INSTANTIATE)

}  // namespace moeplan::verify
