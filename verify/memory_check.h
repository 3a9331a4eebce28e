#pragma once
// The memory check `train` does before allocating anything.
//   cuda: per parameter fp32 master 4 + fp32 grad 4 + Adam m,v 8 + bf16 copy 2 = 18 bytes
//         (law::MemoryRegime::kTrainMixedAdamW);
//         activations per layer s·b·h·(34 + 5·a·s/h) bytes (Korthikanti et al. 2022, law/memory.h)
//         plus the experts' K·3·h_e·2 bytes per token, plus logits b·s·V·(2 + 4 + 4) bytes.
//   cpu:  per parameter 16 bytes (fp32 weights, grads, m, v; the total of law's
//         kTrainBf16Grads, the only 16-byte regime there); the reference keeps fp32
//         activations: per token and layer 12·d + K·(2·d + 3·h_e) + 2·E + heads·s floats,
//         plus 3·V floats per token for the logits.
#include <cstdint>
#include <string>

#include "law/architecture.h"

namespace moeplan::verify {

struct TrainingMemory {
  double parameter_state_bytes = 0;  // weights, grads, optimizer
  double activation_bytes = 0;       // one micro-batch
  double total() const { return parameter_state_bytes + activation_bytes; }
};

TrainingMemory training_memory(const law::MoeArchitecture& arch, std::int64_t micro_batch_sequences,
                               const std::string& device);

// MemAvailable of /proc/meminfo in bytes (0 when unknown).
double available_host_memory_bytes();

// Throws moeplan::Error with the numbers when `need` exceeds `available_bytes` (`where`: "the
// GPU's free memory", "available RAM"). available_bytes <= 0 skips the check.
void check_training_memory(const TrainingMemory& need, double available_bytes,
                           const std::string& where);

// Device-specific: the GPU's free memory (only with CUDA) or the host's available RAM; then
// check_training_memory.
void check_memory_before_allocating(const law::MoeArchitecture& arch,
                                    std::int64_t micro_batch_sequences, const std::string& device);

}  // namespace moeplan::verify
