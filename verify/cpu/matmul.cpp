#include "verify/cpu/matmul.h"

namespace moeplan::verify {

template <typename S>
Mat<S> linear_forward(MatIn<S> x, MatIn<S> w) {
  return x * w.transpose();
}

template <typename S>
Mat<S> linear_backward(MatIn<S> x, MatIn<S> w, MatIn<S> dy, MatOut<S> dw) {
  dw.noalias() += dy.transpose() * x;
  return dy * w;
}

#define INSTANTIATE(S)                                   \
  template Mat<S> linear_forward<S>(MatIn<S>, MatIn<S>); \
  template Mat<S> linear_backward<S>(MatIn<S>, MatIn<S>, MatIn<S>, MatOut<S>);
MOEPLAN_INSTANTIATE_FOR_SCALARS(INSTANTIATE)

}  // namespace moeplan::verify
