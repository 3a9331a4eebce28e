#pragma once
// Rotary position embedding on interleaved pairs, exactly torch_moe_ref.rope: for head slice x,
// pair i = (x[2i], x[2i+1]) at position p rotates by θ = p·base^(−2i/head_dim), base kRopeBase:
//   y[2i] = x[2i]·cos θ − x[2i+1]·sin θ,   y[2i+1] = x[2i]·sin θ + x[2i+1]·cos θ.
// Rows are (batch, position) with position = row mod seq.
#include "verify/cpu/tensor.h"

namespace moeplan::verify {

// The angle θ of pair `pair` at `position`, computed in double.
double rope_angle(std::int64_t position, std::int64_t pair, std::int64_t head_dim);

// In place on x (tokens, heads·head_dim).
template <typename S>
void rope_forward(MatOut<S> x, std::int64_t heads, std::int64_t seq);
// The transpose (inverse rotation), in place on the gradient.
template <typename S>
void rope_backward(MatOut<S> dx, std::int64_t heads, std::int64_t seq);

}  // namespace moeplan::verify
