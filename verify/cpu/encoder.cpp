#include "verify/cpu/encoder.h"

namespace moeplan::verify {

template <typename S>
Mat<S> embedding_forward(MatIn<S> table, const std::int32_t* ids, std::int64_t n) {
  Mat<S> y(n, table.cols());
  for (std::int64_t t = 0; t < n; ++t) y.row(t) = table.row(ids[t]);
  return y;
}

template <typename S>
void embedding_backward(MatIn<S> dy, const std::int32_t* ids, MatOut<S> dtable) {
  for (Eigen::Index t = 0; t < dy.rows(); ++t) dtable.row(ids[t]) += dy.row(t);
}

#define INSTANTIATE(S)                                                               \
  template Mat<S> embedding_forward<S>(MatIn<S>, const std::int32_t*, std::int64_t); \
  template void embedding_backward<S>(MatIn<S>, const std::int32_t*, MatOut<S>);
MOEPLAN_INSTANTIATE_FOR_SCALARS(INSTANTIATE)

}  // namespace moeplan::verify
