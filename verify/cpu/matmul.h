#pragma once
// Linear maps of the CPU reference (no biases anywhere); twin of verify/cuda/matmul.cu.
#include "verify/cpu/tensor.h"

namespace moeplan::verify {

// y = x·Wᵀ, W (out, in) as torch.nn.Linear.
template <typename S>
Mat<S> linear_forward(MatIn<S> x, MatIn<S> w);
// Returns dx = dy·W and adds dyᵀ·x to dw.
template <typename S>
Mat<S> linear_backward(MatIn<S> x, MatIn<S> w, MatIn<S> dy, MatOut<S> dw);

}  // namespace moeplan::verify
