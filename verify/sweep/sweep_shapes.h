#pragma once
// The small models a sweep trains: for given E, K, G, vocabulary and context, a ladder of
// paper-family shapes (law/architecture.h, exact counts by law::count_params), sorted by total
// parameters N. The shape rule:
//   d_model a multiple of 32, from 32 to 512;
//   head_dim 64 where d_model is a multiple of 64 and at least 128, else 32 (n_heads = d/head_dim);
//   1 to 8 layers with d_model / layers between 24 and 48, or exactly 8 layers with d_model / 8 up
//   to 64 (the widest models stay 8 deep);
//   expert width 4·d_model/G (App. C), so G must divide 4·d_model.
// So d32 L1, d64 L2, d128 L3..5, the bench's micro model d128 L4 H2 E16 K1 and d192 L4..8 are all
// on it. Two shapes with the same N keep the one with d_model/layers nearer 32.
#include <cstdint>
#include <optional>
#include <vector>

#include "law/architecture.h"

namespace moeplan::verify {

struct ShapeFamily {
  std::int64_t experts = 1, top_k = 1, granularity = 1, vocab = 256, context = 256;
};

struct LadderShape {
  law::MoeArchitecture arch;
  double total_params = 0;   // N
  double active_params = 0;  // N_a
};

std::vector<LadderShape> shape_ladder(const ShapeFamily& family);

// The shape whose N is nearest `target_params` in log scale (ladder must not be empty).
const LadderShape& nearest_shape(const std::vector<LadderShape>& ladder, double target_params);

}  // namespace moeplan::verify
