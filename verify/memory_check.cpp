#include "verify/memory_check.h"

#include <fstream>
#include <sstream>

#include "law/memory.h"
#include "util/error.h"
#include "util/units.h"
#include "verify/cuda_library.h"

namespace moeplan::verify {

TrainingMemory training_memory(const law::MoeArchitecture& a, std::int64_t micro_batch_sequences,
                               const std::string& device) {
  // law's count (equal to the layout's, tested) and not the layout: it is checked against
  // overflow, and builds nothing per layer before the check has refused an absurd model.
  const double params = static_cast<double>(law::count_params(a).total);
  const double b = static_cast<double>(micro_batch_sequences), s = static_cast<double>(a.context);
  const double d = static_cast<double>(a.d_model), L = static_cast<double>(a.n_layers);
  const double K = static_cast<double>(a.active_experts), E = static_cast<double>(a.experts);
  const double h = static_cast<double>(a.expert_hidden), V = static_cast<double>(a.vocab_size);
  const double H = static_cast<double>(a.n_heads), tokens = b * s;
  TrainingMemory m;
  if (device == "cpu") {
    // The Eigen reference keeps fp32 weights, grads and Adam m, v: 4 + 4 + 8 = 16 bytes. law/
    // has no all-fp32 regime; kTrainBf16Grads (bf16 weights 2 + bf16 grads 2 + fp32 master 4 +
    // m, v 8) has the same 16-byte total, which is all this check uses.
    m.parameter_state_bytes =
        law::bytes_per_param(law::MemoryRegime::kTrainBf16Grads).total() * params;
    m.activation_bytes = 4 * tokens * (L * (12 * d + K * (2 * d + 3 * h) + 2 * E + H * s) + 3 * V);
  } else {
    // The CUDA model is mixed precision: bf16 weights, fp32 grads, fp32 master and Adam m, v.
    m.parameter_state_bytes =
        law::bytes_per_param(law::MemoryRegime::kTrainMixedAdamW).total() * params;
    m.activation_bytes =
        L * (law::activation_bytes_per_layer(s, b, d, H) + tokens * K * 3 * h * 2) +
        tokens * V * (2 + 4 + 4);
  }
  return m;
}

double available_host_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    double kib = 0;
    if (fields >> key >> kib && key == "MemAvailable:") return kib * 1024.0;
  }
  return 0;
}

void check_training_memory(const TrainingMemory& need, double available_bytes,
                           const std::string& where) {
  if (available_bytes <= 0 || need.total() <= available_bytes) return;
  fail("the model does not fit: training needs about ", format_bytes(need.total()), " (",
       format_bytes(need.parameter_state_bytes), " weights, gradients and AdamW state + ",
       format_bytes(need.activation_bytes), " activations of one micro-batch) but ", where, " is ",
       format_bytes(available_bytes), "; use a smaller model or --micro-batch");
}

void check_memory_before_allocating(const law::MoeArchitecture& arch,
                                    std::int64_t micro_batch_sequences, const std::string& device) {
  const TrainingMemory need = training_memory(arch, micro_batch_sequences, device);
  if (device == "cpu") {
    check_training_memory(need, available_host_memory_bytes(), "the available RAM");
    return;
  }
  check_training_memory(need, static_cast<double>(cuda_device_info().free_bytes),
                        "the GPU's free memory");
}

}  // namespace moeplan::verify
