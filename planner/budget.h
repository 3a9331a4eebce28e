#pragma once
// The training budget C in FLOPs: given directly (--budget), or derived from GPU time as
// C = hours · 3600 · peak FLOP/s · MFU.
#include <optional>
#include <string>
#include <vector>

namespace moeplan::planner {

struct GpuModel {
  const char* name;   // "h100"
  double peak_flops;  // dense bf16 FLOP/s, no sparsity
};

// The GPUs --gpu knows (dense bf16 peaks from the vendors' data sheets).
const std::vector<GpuModel>& gpu_models();
// Throws moeplan::Error with a "did you mean" for an unknown name.
double gpu_peak_flops(const std::string& name);

struct BudgetInput {
  std::optional<double> flops;      // --budget
  std::optional<double> gpu_hours;  // --gpu-hours
  std::optional<std::string> gpu;   // --gpu NAME
  std::optional<double> gpu_flops;  // --gpu-flops (peak FLOP/s per GPU)
  double mfu = 0.4;                 // --mfu
};

struct Budget {
  double flops = 0;
  std::string derivation;  // "given" or "1000 GPU-hours × 3600 s × 9.89e14 FLOP/s (h100) × MFU 0.4"
  std::optional<double> gpu_hours;
  std::optional<std::string> gpu;
  std::optional<double> peak_flops;
  std::optional<double> mfu;
};

// Throws moeplan::Error for a missing, conflicting or non-positive budget.
Budget resolve_budget(const BudgetInput& input);

}  // namespace moeplan::planner
