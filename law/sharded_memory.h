#pragma once
// Memory per device of a Megatron-Core training layout (docs/math.md, "Memory per layout"):
// tensor parallelism (TP) splits every weight matrix, pipeline parallelism (PP) splits the
// layers, expert parallelism (EP) splits the experts (expert tensor parallelism = TP, Megatron's
// default), data parallelism (DP = devices / (TP·PP)) replicates the rest. The ZeRO stage says
// what DP shards: 1 is Megatron's distributed optimizer (master weights and Adam moments), 2 adds
// the gradients, 3 the weights (Megatron's FSDP path); 0 shards nothing. Experts are sharded over
// the expert data-parallel group, DP / EP ranks.
#include "law/memory.h"

namespace moeplan::law {

struct ParallelDegrees {
  int tensor = 1, expert = 1, pipeline = 1, data = 1;
  int devices() const { return tensor * pipeline * data; }
};

// A model's parameters by how they shard.
struct ShardedParams {
  double experts = 0;          // all layers, all E experts
  double layers_dense = 0;     // attention, router and norms of all layers
  double embedding_table = 0;  // one V·d table
  int embedding_tables = 2;    // 2 untied (input and output), 1 tied
  double n_layers = 0;
  double d_model = 0, n_heads = 0, context = 0;
};

ShardedParams sharded_params(const MoeArchitecture& arch);
ShardedParams sharded_params(const MoeArchitecture& arch, const ParamCounts& counts);

// Per device, on the worst pipeline stage (the first: L/PP layers and the input embedding, or
// all of it when PP = 1). Activations: Korthikanti et al. 2022 with sequence parallelism,
// L·s·b·h·(34 + 5·a·s/h)/TP on the first stage (1F1B keeps PP micro-batches of L/PP layers).
MemoryBreakdown sharded_memory_per_device(const ShardedParams& params,
                                          const ParallelDegrees& degrees, const MemorySetup& setup);

}  // namespace moeplan::law
