#pragma once
// Causal multi-head attention core (after QKV projection, QK-norm and RoPE):
//   P = softmax(q·kᵀ/sqrt(hd) with j > i masked),  o = P·v,  per sequence and head.
// q, k, v, o: (batch·seq, heads·hd); head h is columns [h·hd, (h+1)·hd).
#include <vector>

#include "verify/cpu/tensor.h"

namespace moeplan::verify {

// Stores each (sequence, head)'s probabilities (seq × seq, index b·heads + h) in *probs.
template <typename S>
Mat<S> attention_forward(MatIn<S> q, MatIn<S> k, MatIn<S> v, std::int64_t seq, std::int64_t heads,
                         std::vector<Mat<S>>* probs);

// dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P⊙(dP − rowsum(dP⊙P))/sqrt(hd), dQ = dS·K, dK = dSᵀ·Q.
template <typename S>
void attention_backward(MatIn<S> q, MatIn<S> k, MatIn<S> v, const std::vector<Mat<S>>& probs,
                        MatIn<S> dout, std::int64_t seq, std::int64_t heads, Mat<S>* dq, Mat<S>* dk,
                        Mat<S>* dv);

}  // namespace moeplan::verify
