#pragma once
// Linear maps and the token embedding of the CPU reference (no biases anywhere).
#include "verify/cpu/tensor.h"

namespace moeplan::verify {

// y = x·Wᵀ, W (out, in) as torch.nn.Linear.
template <typename S>
Mat<S> linear_forward(MatIn<S> x, MatIn<S> w);
// Returns dx = dy·W and adds dyᵀ·x to dw.
template <typename S>
Mat<S> linear_backward(MatIn<S> x, MatIn<S> w, MatIn<S> dy, MatOut<S> dw);

// y_t = table[ids[t]].
template <typename S>
Mat<S> embedding_forward(MatIn<S> table, const std::int32_t* ids, std::int64_t n);
// dtable[ids[t]] += dy_t.
template <typename S>
void embedding_backward(MatIn<S> dy, const std::int32_t* ids, MatOut<S> dtable);

}  // namespace moeplan::verify
