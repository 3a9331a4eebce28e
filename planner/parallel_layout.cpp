#include "planner/parallel_layout.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

namespace moeplan::planner {

ShapeFacts shape_facts(const law::MoeArchitecture& arch) {
  return {arch.d_model, arch.n_layers,      arch.n_heads,
          arch.experts, arch.expert_hidden, arch.context};
}

namespace {

bool tensor_parallel_allowed(int tp, const ShapeFacts& s) {
  return s.n_heads % tp == 0 && (4 * s.d_model) % tp == 0 && s.expert_hidden % tp == 0 &&
         s.context % tp == 0;
}

}  // namespace

std::vector<TensorPipeline> layout_tiers(const ClusterRequest& c) {
  std::vector<int> tensors;
  if (c.fixed.tensor) {
    tensors = {*c.fixed.tensor};
  } else {
    for (int tp = 1; tp <= kMaxAutoTensorParallel; tp *= 2) tensors.push_back(tp);
  }
  std::vector<TensorPipeline> tiers;
  for (const int tp : tensors) {
    if (c.devices % tp != 0) continue;
    for (int pp = 1; pp <= c.devices / tp; ++pp) {
      if (c.fixed.pipeline && pp != *c.fixed.pipeline) continue;
      if ((c.devices / tp) % pp == 0) tiers.push_back({tp, pp});
    }
  }
  std::stable_sort(tiers.begin(), tiers.end(),
                   [](const TensorPipeline& a, const TensorPipeline& b) {
                     const int ma = a.tensor * a.pipeline, mb = b.tensor * b.pipeline;
                     return ma != mb ? ma < mb : a.pipeline < b.pipeline;
                   });
  return tiers;
}

std::vector<TensorPipeline> tensor_pipeline_options(const ClusterRequest& c,
                                                    const ShapeFacts& shape) {
  std::vector<TensorPipeline> options;
  for (const TensorPipeline& t : layout_tiers(c))
    if (tensor_parallel_allowed(t.tensor, shape) && shape.n_layers % t.pipeline == 0)
      options.push_back(t);
  return options;
}

int expert_parallel_for(const ClusterRequest& c, std::int64_t experts, int data) {
  if (c.fixed.expert) {
    const int ep = *c.fixed.expert;
    return data % ep == 0 && experts % ep == 0 ? ep : 0;
  }
  return static_cast<int>(std::gcd<std::int64_t>(experts, data));
}

std::optional<LayoutChoice> choose_layout(const ClusterRequest& c,
                                          const std::vector<TensorPipeline>& options,
                                          const law::ShardedParams& params, std::int64_t experts,
                                          const law::MemorySetup& setup, double cap_bytes) {
  std::optional<LayoutChoice> least;
  for (const TensorPipeline& o : options) {
    LayoutChoice choice;
    choice.degrees.tensor = o.tensor;
    choice.degrees.pipeline = o.pipeline;
    choice.degrees.data = c.devices / (o.tensor * o.pipeline);
    choice.degrees.expert = expert_parallel_for(c, experts, choice.degrees.data);
    if (choice.degrees.expert == 0) continue;
    choice.memory = law::sharded_memory_per_device(params, choice.degrees, setup);
    choice.fits = choice.memory.per_device_bytes() <= cap_bytes;
    if (choice.fits) return choice;
    if (!least || choice.memory.per_device_bytes() < least->memory.per_device_bytes())
      least = choice;
  }
  return least;
}

double memory_floor_bytes(const ClusterRequest& c, const std::vector<TensorPipeline>& options,
                          const law::ShardedParams& params, const law::MemorySetup& setup) {
  double floor = std::numeric_limits<double>::infinity();
  for (const TensorPipeline& o : options) {
    law::ParallelDegrees g;
    g.tensor = o.tensor;
    g.pipeline = o.pipeline;
    g.data = c.devices / (o.tensor * o.pipeline);
    g.expert = c.fixed.expert.value_or(g.data);
    if (g.data % g.expert != 0) continue;
    floor = std::min(floor, law::sharded_memory_per_device(params, g, setup).per_device_bytes());
  }
  return floor;
}

std::vector<std::string> layout_violations(const law::ParallelDegrees& g, const ShapeFacts& s) {
  std::vector<std::string> out;
  auto rule = [&](bool ok, const std::string& what) {
    if (!ok) out.push_back(what);
  };
  const std::string tp = std::to_string(g.tensor), ep = std::to_string(g.expert),
                    pp = std::to_string(g.pipeline), dp = std::to_string(g.data);
  rule(g.data % g.expert == 0,
       "expert parallelism " + ep + " does not divide DP " + dp + " (world size by TP x EP x PP)");
  rule(s.n_heads % g.tensor == 0,
       "heads " + std::to_string(s.n_heads) + " are not divisible by TP " + tp);
  rule(s.experts % g.expert == 0,
       "experts " + std::to_string(s.experts) + " are not divisible by EP " + ep);
  rule(s.n_layers % g.pipeline == 0,
       "layers " + std::to_string(s.n_layers) + " are not divisible by PP " + pp);
  rule((4 * s.d_model) % g.tensor == 0 && s.expert_hidden % g.tensor == 0,
       "FFN widths are not divisible by TP " + tp);
  rule(s.context % g.tensor == 0, "context " + std::to_string(s.context) +
                                      " is not divisible by TP " + tp + " (sequence parallelism)");
  return out;
}

std::int64_t megatron_global_batch(double sequences, std::int64_t micro_batch, int data) {
  const double step = static_cast<double>(micro_batch) * data;
  return static_cast<std::int64_t>(std::max(1.0, std::round(sequences / step)) * step);
}

std::string describe_layout(const law::ParallelDegrees& g) {
  std::ostringstream s;
  s << "TP " << g.tensor << " x EP " << g.expert << " x PP " << g.pipeline << " x DP " << g.data
    << " (" << g.devices() << " GPUs)";
  return s.str();
}

}  // namespace moeplan::planner
