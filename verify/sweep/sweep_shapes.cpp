#include "verify/sweep/sweep_shapes.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace moeplan::verify {
namespace {

constexpr std::int64_t kWidthStep = 32, kMaxWidth = 512, kMaxLayers = 8;
constexpr std::int64_t kMinAspect = 24, kMaxAspect = 48, kMaxAspectAtMaxDepth = 64;
constexpr double kPreferredAspect = 32;

std::int64_t head_dim_for(std::int64_t d_model) {
  return d_model >= 128 && d_model % 64 == 0 ? 64 : 32;
}

bool depth_allowed(std::int64_t d_model, std::int64_t layers) {
  const std::int64_t max_aspect = layers == kMaxLayers ? kMaxAspectAtMaxDepth : kMaxAspect;
  return d_model >= kMinAspect * layers && d_model <= max_aspect * layers;
}

double aspect_distance(const law::MoeArchitecture& a) {
  return std::fabs(std::log(static_cast<double>(a.d_model) / static_cast<double>(a.n_layers) /
                            kPreferredAspect));
}

}  // namespace

std::vector<LadderShape> shape_ladder(const ShapeFamily& f) {
  std::vector<LadderShape> ladder;
  for (std::int64_t d = kWidthStep; d <= kMaxWidth; d += kWidthStep) {
    if ((4 * d) % f.granularity != 0) continue;  // expert width 4·d/G must be whole
    for (std::int64_t layers = 1; layers <= kMaxLayers; ++layers) {
      if (!depth_allowed(d, layers)) continue;
      LadderShape s;
      s.arch = law::make_paper_architecture(d, layers, d / head_dim_for(d), f.experts, f.top_k,
                                            f.granularity, f.vocab, f.context);
      const law::ParamCounts counts = law::count_params(s.arch);
      s.total_params = static_cast<double>(counts.total);
      s.active_params = static_cast<double>(counts.active);
      ladder.push_back(s);
    }
  }
  std::sort(ladder.begin(), ladder.end(), [](const LadderShape& a, const LadderShape& b) {
    if (a.total_params != b.total_params) return a.total_params < b.total_params;
    return aspect_distance(a.arch) < aspect_distance(b.arch);
  });
  ladder.erase(std::unique(ladder.begin(), ladder.end(),
                           [](const LadderShape& a, const LadderShape& b) {
                             return a.total_params == b.total_params;
                           }),
               ladder.end());
  return ladder;
}

const LadderShape& nearest_shape(const std::vector<LadderShape>& ladder, double target_params) {
  if (ladder.empty()) fail("no model shape to choose from");
  const auto distance = [&](const LadderShape& s) {
    return std::fabs(std::log(s.total_params / target_params));
  };
  return *std::min_element(
      ladder.begin(), ladder.end(),
      [&](const LadderShape& a, const LadderShape& b) { return distance(a) < distance(b); });
}

}  // namespace moeplan::verify
