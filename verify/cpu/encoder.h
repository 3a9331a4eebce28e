#pragma once
// The token embedding of the CPU reference; twin of verify/cuda/encoder.cu.
#include "verify/cpu/tensor.h"

namespace moeplan::verify {

// y_t = table[ids[t]].
template <typename S>
Mat<S> embedding_forward(MatIn<S> table, const std::int32_t* ids, std::int64_t n);
// dtable[ids[t]] += dy_t.
template <typename S>
void embedding_backward(MatIn<S> dy, const std::int32_t* ids, MatOut<S> dtable);

}  // namespace moeplan::verify
