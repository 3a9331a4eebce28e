#pragma once
// Everything `moeplan plan` is asked: law, budget, memory cap, sparsity bounds, shape rule,
// architecture overrides and the mode (global optimum or one of the paper's slices).
#include <cstdint>
#include <optional>

#include "law/flops.h"
#include "law/memory.h"
#include "law/scaling_law.h"
#include "planner/budget.h"
#include "planner/parallel_layout.h"
#include "planner/shape_rule.h"

namespace moeplan::planner {

enum class PlanMode {
  kOptimum,        // min L over (N, S)
  kFixedParams,    // --params N: S*(N; C), Fig. 4
  kFixedSparsity,  // --sparsity S: N*(S; C) and N_a*(S; C), Fig. 2b/c
};

const char* plan_mode_name(PlanMode mode);  // "optimum", "params", "sparsity"

// Flags that pin a hyperparameter of the discrete search (layers/heads live in ShapeRule).
struct ArchitectureOverrides {
  std::optional<std::int64_t> d_model;      // --d-model
  std::optional<std::int64_t> experts;      // --experts (E_total)
  std::optional<std::int64_t> top_k;        // --top-k (K; default K = G)
  std::optional<std::int64_t> granularity;  // --granularity (G)
};

// What must fit: memory per device under `bytes_per_device`, and N under `max_params`.
// With `cluster` (--gpus), memory is that of the parallel layout (planner/parallel_layout.h) and
// setup.devices equals cluster->devices; without, one device (or pool) holds the whole model.
struct MemoryCap {
  law::MemorySetup setup;
  std::optional<ClusterRequest> cluster;
  std::optional<double> bytes_per_device;  // --memory, or --gpu-memory with --gpus
  std::optional<double> max_params;        // --max-params
  bool any() const { return bytes_per_device.has_value() || max_params.has_value(); }
};

inline constexpr double kDefaultMaxSparsity = 0.98;  // the paper's largest (held-out) sparsity

struct PlanRequest {
  law::ScalingLaw law;
  Budget budget;
  law::FlopsMethod flops_method = law::FlopsMethod::kSixNaD;
  MemoryCap cap;
  double min_sparsity = 0;
  double max_sparsity = kDefaultMaxSparsity;
  ShapeRule shape;
  ArchitectureOverrides overrides;
  PlanMode mode = PlanMode::kOptimum;
  double target_params = 0;        // --params
  double params_tolerance = 0.05;  // --params-tolerance, relative
  double target_sparsity = 0;      // --sparsity
  int alternatives = 10;  // rows of the Pareto table
};

// Throws moeplan::Error naming the first bad field (e.g. min sparsity above max).
void validate(const PlanRequest& request);

// Sparsity bounds actually searched: [0, 0] for a dense law.
double effective_min_sparsity(const PlanRequest& request);
double effective_max_sparsity(const PlanRequest& request);

}  // namespace moeplan::planner
