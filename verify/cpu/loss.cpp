#include "verify/cpu/loss.h"

#include <cmath>

namespace moeplan::verify {
namespace {

template <typename S>
S row_logsumexp(const Eigen::Ref<const Mat<S>>& logits, Eigen::Index t) {
  const S m = logits.row(t).maxCoeff();
  return m + std::log((logits.row(t).array() - m).exp().sum());
}

}  // namespace

template <typename S>
S cross_entropy_forward(MatIn<S> logits, const std::int32_t* targets) {
  S sum = 0;
  for (Eigen::Index t = 0; t < logits.rows(); ++t) {
    sum += row_logsumexp<S>(logits, t) - logits(t, targets[t]);
  }
  return sum / static_cast<S>(logits.rows());
}

template <typename S>
Mat<S> cross_entropy_backward(MatIn<S> logits, const std::int32_t* targets, S scale) {
  const S per_token = scale / static_cast<S>(logits.rows());
  Mat<S> d(logits.rows(), logits.cols());
  for (Eigen::Index t = 0; t < logits.rows(); ++t) {
    d.row(t) = (logits.row(t).array() - row_logsumexp<S>(logits, t)).exp().matrix() * per_token;
    d(t, targets[t]) -= per_token;
  }
  return d;
}

#define INSTANTIATE(S)                                                \
  template S cross_entropy_forward<S>(MatIn<S>, const std::int32_t*); \
  template Mat<S> cross_entropy_backward<S>(MatIn<S>, const std::int32_t*, S);
MOEPLAN_INSTANTIATE_FOR_SCALARS(INSTANTIATE)

}  // namespace moeplan::verify
