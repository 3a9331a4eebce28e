#pragma once
// Megatron-LM's own argument checks that apply to a MoE GPT model, encoded so that
// `plan --export megatron` can be tested (and is checked before it is written). Read from
// NVIDIA/Megatron-LM commit d98e8a64ddf3 (Megatron-Core 0.20.0, 2026-08-22):
//   megatron/training/arguments.py validate_args: world size divisible by TP·PP; layers by PP;
//     hidden size by heads unless --kv-channels; max_position_embeddings >= seq_length;
//     min_lr <= lr; experts by EP (EP > 1 needs --num-experts); Megatron FSDP needs
//     --ckpt-format fsdp_dtensor;
//   megatron/core/parallel_state.py: world size divisible by ETP·EP·PP (ETP defaults to TP);
//   megatron/core/num_microbatches_calculator.py: global batch divisible by micro-batch × DP;
//   megatron/core/transformer/transformer_config.py: heads divisible by TP; query groups a
//     multiple or divisor of TP;
//   megatron/core/transformer/moe/moe_layer.py: training with TP > 1 needs --sequence-parallel;
//   megatron/core/tensor_parallel/mappings.py: with sequence parallelism the sequence divides
//     by TP; layers.py: FFN widths divide by TP (ETP for experts);
//   megatron/core/optimizer_param_scheduler.py: warm-up iterations below the decay iterations
//     (= --train-iters); top-k at most the experts (torch.topk).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace moeplan::planner {

// The flags of an exported MOEPLAN_MEGATRON_ARGS=( ... ) array; a switch maps to "".
struct MegatronArgs {
  std::map<std::string, std::string> values;
  bool has(const std::string& flag) const { return values.count(flag) > 0; }
  // The integer value of `flag`, or `fallback` when absent; throws when not an integer.
  std::int64_t integer(const std::string& flag, std::int64_t fallback) const;
  double real(const std::string& flag, double fallback) const;
};

// Throws moeplan::Error when `text` has no MOEPLAN_MEGATRON_ARGS array.
MegatronArgs parse_megatron_args(const std::string& text);

// Every check above that `args` fail on `world_size` GPUs, one sentence each (empty: none).
std::vector<std::string> megatron_violations(const MegatronArgs& args, std::int64_t world_size);

}  // namespace moeplan::planner
