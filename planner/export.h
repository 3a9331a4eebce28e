#pragma once
// The planned architecture as configs a trainer at scale takes:
//   - a Hugging Face config.json of model_type qwen3_moe: the HF family that is exactly the
//     trained model (per-head QK RMSNorm, SwiGLU experts of width moe_intermediate_size, top-k
//     softmax routing without renormalisation, no biases, RoPE base 10000, every layer MoE), so
//     `moeplan count` reads it back to the plan's exact counts;
//   - Megatron-LM arguments for pretrain_gpt.py, as a bash array; for a cluster plan with its
//     parallel layout (TP, EP, PP, sequence parallelism with TP, the distributed optimizer, or
//     Megatron's FSDP path for ZeRO-2/3), checked by planner/megatron_checks.h.
#include <cstdint>
#include <optional>
#include <string>

#include "law/architecture.h"
#include "law/sharded_memory.h"

namespace moeplan::planner {

struct ExportRecipe {
  std::optional<double> peak_lr, min_lr;
  std::optional<std::int64_t> global_batch_sequences, micro_batch_sequences, train_steps,
      warmup_steps;
};

// Hyperparameters the trainer (verify/) uses and both exports state.
inline constexpr double kExportRouterAuxLossCoef = 0.02;
inline constexpr double kExportRouterZLossCoef = 1e-3;
inline constexpr double kExportRopeTheta = 10000.0;
inline constexpr double kExportRmsNormEps = 1e-6;

std::string export_hf_config(const law::MoeArchitecture& arch);
// The parallelism a cluster plan runs under.
struct ExportLayout {
  law::ParallelDegrees degrees;
  int zero_stage = 1;
};

std::string export_megatron_args(const law::MoeArchitecture& arch, const ExportRecipe& recipe,
                                 const std::optional<ExportLayout>& layout = std::nullopt);

}  // namespace moeplan::planner
