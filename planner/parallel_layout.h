#pragma once
// The parallel layout a plan runs under on a cluster (--gpus N): tensor (TP), expert (EP) and
// pipeline (PP) parallelism, data parallelism DP = N / (TP·PP), and Megatron-Core's rules on the
// shapes (megatron/training/arguments.py, megatron/core; the commit is in moeplan-plan(1)):
//   N divisible by TP·PP and by TP·EP·PP (expert tensor parallelism = TP), so EP divides DP;
//   heads and query groups (= heads here) divisible by TP; E divisible by EP; layers by PP;
//   the FFN widths (dense 4·d and expert h) by TP (column-parallel linears);
//   TP > 1 trains MoE only with sequence parallelism, so the context divides by TP;
//   the global batch divisible by micro-batch × DP (see megatron_global_batch).
// Given flags pin a degree; otherwise the planner picks TP and PP for the whole search (the
// least TP·PP, TP before PP, under which any model fits: planner/architecture_search.h) and EP
// per architecture, the largest divisor of both E and DP (the most expert sharding E allows).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "law/architecture.h"
#include "law/sharded_memory.h"

namespace moeplan::planner {

// ZeRO stage of a cluster plan unless --zero: Megatron's distributed optimizer.
inline constexpr int kClusterZeroStage = 1;
// Tensor parallelism stays inside one node: the planner tries 1, 2, 4, 8.
inline constexpr int kMaxAutoTensorParallel = 8;

// --tensor-parallel, --expert-parallel, --pipeline-parallel (absent: the planner picks).
struct LayoutRequest {
  std::optional<int> tensor, expert, pipeline;
  bool any() const { return tensor || expert || pipeline; }
};

struct ClusterRequest {
  int devices = 1;  // --gpus
  LayoutRequest fixed;
};

// The shape facts the rules look at.
struct ShapeFacts {
  std::int64_t d_model = 0, n_layers = 0, n_heads = 0, experts = 1, expert_hidden = 0;
  std::int64_t context = 0;
};
ShapeFacts shape_facts(const law::MoeArchitecture& arch);

struct TensorPipeline {
  int tensor = 1, pipeline = 1;
};
// The (TP, PP) pairs of a cluster: TP in 1, 2, 4, 8 (or the fixed one) dividing N, PP dividing
// N/TP (or the fixed one); least TP·PP first, TP before PP.
std::vector<TensorPipeline> layout_tiers(const ClusterRequest& cluster);

// The tiers a shape allows (its rules for TP and PP), in the same order; EP is chosen per E.
std::vector<TensorPipeline> tensor_pipeline_options(const ClusterRequest& cluster,
                                                    const ShapeFacts& shape);

// EP for E experts at data parallelism `data` (the fixed one when it divides both), or 0.
int expert_parallel_for(const ClusterRequest& cluster, std::int64_t experts, int data);

struct LayoutChoice {
  law::ParallelDegrees degrees;
  law::MemoryBreakdown memory;
  bool fits = false;
};

// The first layout of the options under which `params` fit `cap_bytes` per device; when none
// does, the one with the least memory (fits = false); nullopt when the rules allow none.
std::optional<LayoutChoice> choose_layout(const ClusterRequest& cluster,
                                          const std::vector<TensorPipeline>& options,
                                          const law::ShardedParams& params, std::int64_t experts,
                                          const law::MemorySetup& setup, double cap_bytes);

// A lower bound on the memory of any layout of the options for `params`: EP as large as DP
// allows (or the fixed one), whatever E. It grows with E, so the search stops there.
double memory_floor_bytes(const ClusterRequest& cluster, const std::vector<TensorPipeline>& options,
                          const law::ShardedParams& params, const law::MemorySetup& setup);

// Every rule above that `degrees` breaks for `shape`, one sentence each (empty: none).
std::vector<std::string> layout_violations(const law::ParallelDegrees& degrees,
                                           const ShapeFacts& shape);

// The global batch in sequences nearest `sequences` that Megatron accepts: a positive multiple
// of micro_batch × DP.
std::int64_t megatron_global_batch(double sequences, std::int64_t micro_batch, int data);

// "TP 1 x EP 8 x PP 1 x DP 8 (8 GPUs)"
std::string describe_layout(const law::ParallelDegrees& degrees);

}  // namespace moeplan::planner
