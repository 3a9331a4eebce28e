#pragma once
// Mean token cross-entropy of the unembedding's logits: CE = mean_t (logsumexp(z_t) − z_t,y_t).
#include <cstdint>

#include "verify/cpu/tensor.h"

namespace moeplan::verify {

template <typename S>
S cross_entropy_forward(MatIn<S> logits, const std::int32_t* targets);
// scale·∂CE/∂z = scale·(softmax(z_t) − onehot(y_t))/T.
template <typename S>
Mat<S> cross_entropy_backward(MatIn<S> logits, const std::int32_t* targets, S scale);

}  // namespace moeplan::verify
