#include "law/memory.h"

#include "util/error.h"
#include "util/text.h"

namespace moeplan::law {

std::string regime_name(MemoryRegime regime) {
  switch (regime) {
    case MemoryRegime::kTrainMixedAdamW: return "train-mixed-adamw";
    case MemoryRegime::kTrainBf16Grads: return "train-bf16-grads";
    case MemoryRegime::kInferenceBf16: return "inference-bf16";
  }
  return "?";
}

MemoryRegime parse_regime(const std::string& name) {
  for (auto r : {MemoryRegime::kTrainMixedAdamW, MemoryRegime::kTrainBf16Grads,
                 MemoryRegime::kInferenceBf16})
    if (regime_name(r) == name) return r;
  throw Error(unknown_name_message("memory regime", name,
                                   {"train-mixed-adamw", "train-bf16-grads", "inference-bf16"}));
}

BytesPerParam bytes_per_param(MemoryRegime regime) {
  switch (regime) {
    case MemoryRegime::kTrainMixedAdamW: return {2, 4, 4, 8};
    case MemoryRegime::kTrainBf16Grads: return {2, 2, 4, 8};
    case MemoryRegime::kInferenceBf16: return {2, 0, 0, 0};
  }
  return {};
}

double activation_bytes_per_layer(double s, double b, double h, double a) {
  return s * b * h * (34.0 + 5.0 * a * s / h);
}

MemoryBreakdown memory_per_device(double total_params, double n_layers, double d_model,
                                  double n_heads, double context, const MemorySetup& setup) {
  if (setup.devices < 1) fail("devices must be at least 1, got ", setup.devices);
  if (setup.zero_stage < 0 || setup.zero_stage > 3)
    fail("ZeRO stage must be 0, 1, 2 or 3, got ", setup.zero_stage);
  const BytesPerParam bpp = bytes_per_param(setup.regime);
  const double n = static_cast<double>(setup.devices);
  // ZeRO (Rajbhandari et al. 2020): stage 1 shards optimizer state, 2 also gradients, 3 also weights.
  MemoryBreakdown m;
  m.optimizer_bytes = total_params * (bpp.master + bpp.optimizer) / (setup.zero_stage >= 1 ? n : 1);
  m.grads_bytes = total_params * bpp.grads / (setup.zero_stage >= 2 ? n : 1);
  m.weights_bytes = total_params * bpp.weights / (setup.zero_stage >= 3 ? n : 1);
  if (setup.regime != MemoryRegime::kInferenceBf16)
    m.activation_bytes =
        n_layers * activation_bytes_per_layer(context, setup.micro_batch, d_model, n_heads);
  return m;
}

MemoryBreakdown memory_per_device(const MoeArchitecture& arch, const MemorySetup& setup) {
  const ParamCounts counts = count_params(arch);
  return memory_per_device(static_cast<double>(counts.total), static_cast<double>(arch.n_layers),
                           static_cast<double>(arch.d_model), static_cast<double>(arch.n_heads),
                           static_cast<double>(arch.context), setup);
}

}  // namespace moeplan::law
