#pragma once
// Memory model (SPEC §2): bytes per parameter by regime, activation memory (Korthikanti et al.
// 2022, no recomputation), and sharding of parameter state over data-parallel devices (ZeRO).
#include <string>

#include "law/architecture.h"

namespace moeplan::law {

enum class MemoryRegime {
  kTrainMixedAdamW,  // bf16 weights 2 + fp32 grads 4 + fp32 master 4 + Adam m,v 8 = 18 (Megatron)
  kTrainBf16Grads,   // as above with bf16 grads: 2 + 2 + 4 + 8 = 16
  kInferenceBf16,    // bf16 weights only: 2
};

std::string regime_name(MemoryRegime regime);  // "train-mixed-adamw", "train-bf16-grads", "inference-bf16"
MemoryRegime parse_regime(const std::string& name);  // throws moeplan::Error

struct BytesPerParam {
  double weights = 0, grads = 0, master = 0, optimizer = 0;
  double total() const { return weights + grads + master + optimizer; }
};
BytesPerParam bytes_per_param(MemoryRegime regime);

// Korthikanti et al. 2022 (Table 2, no recomputation, 16-bit activations), bytes per layer:
// s·b·h·(34 + 5·a·s/h), s = sequence length, b = micro-batch, h = d_model, a = heads.
double activation_bytes_per_layer(double seq_len, double micro_batch, double d_model, double heads);

struct MemorySetup {
  MemoryRegime regime = MemoryRegime::kTrainMixedAdamW;
  int devices = 1;        // data-parallel devices sharing the model state
  int zero_stage = 3;     // 0: replicated, 1: optimizer sharded, 2: + grads, 3: + weights
  double micro_batch = 1;  // sequences per device per micro-step (activations)
};

struct MemoryBreakdown {
  double weights_bytes = 0;     // per device
  double grads_bytes = 0;       // per device
  double optimizer_bytes = 0;   // master weights + Adam moments, per device
  double activation_bytes = 0;  // per device (0 for inference)
  double per_device_bytes() const {
    return weights_bytes + grads_bytes + optimizer_bytes + activation_bytes;
  }
};

// Per-device memory of training (or serving) `arch` with `setup`.
MemoryBreakdown memory_per_device(const MoeArchitecture& arch, const MemorySetup& setup);

// Same, from a parameter count and a shape, for the continuous solver (fractional layers allowed).
MemoryBreakdown memory_per_device(double total_params, double n_layers, double d_model,
                                  double n_heads, double context, const MemorySetup& setup);

}  // namespace moeplan::law
