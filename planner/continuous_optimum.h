#pragma once
// The continuous relaxation of SPEC §3 step 1: minimise Eq. 6 over (N, S) with D = C / F(N_a),
// the shape from planner/shape_rule.h, under the memory cap and the sparsity bounds.
// N is reparameterised as N = N_min·(N_max(S)/N_min)^u, u ∈ [0, 1], where N_max(S) is the
// largest model that fits the cap at sparsity S (memory grows with N): the memory constraint
// becomes a box, and dlib::find_min_box_constrained (L-BFGS) solves it from the best point of a
// coarse grid.
#include <optional>

#include "planner/plan_request.h"
#include "planner/shape_rule.h"

namespace moeplan::planner {

struct ContinuousPoint {
  double total_params = 0;   // N
  double active_params = 0;  // N_a
  double tokens = 0;         // D = C / flops_per_token
  double sparsity = 0;       // S
  double loss = 0;           // Eq. 6
  double flops_per_token = 0;
  double d_model = 0, n_layers = 0;  // the fractional shape
};

// Which constraints are active at the continuous optimum.
struct BindingConstraints {
  bool memory = false;        // N = N_max(S) because of the per-device memory cap
  bool max_params = false;    // N = N_max(S) because of --max-params
  bool max_sparsity = false;  // S at its upper bound
  bool min_sparsity = false;  // S at its lower bound (> 0)
};

struct ContinuousOptimum {
  ContinuousPoint point;
  BindingConstraints binding;
};

inline constexpr double kUncappedMaxParams = 1e16;  // search ceiling when nothing caps N

class ContinuousProblem {
 public:
  explicit ContinuousProblem(const PlanRequest& request);

  // Eq. 6 at (N, S) with the planner's shape and D = C / F(N_a).
  ContinuousPoint at(double total_params, double sparsity) const;
  // The smallest model the solver considers (d_model = 64, dense).
  double min_params() const { return min_params_; }
  // Largest N that fits the cap at sparsity S (kUncappedMaxParams when uncapped); 0 if none.
  double max_params(double sparsity) const;
  bool fits(double total_params, double sparsity) const;
  double min_sparsity() const { return min_sparsity_; }
  double max_sparsity() const { return max_sparsity_; }

  // The 2-D optimum over (N, S) (1-D in N when the sparsity bounds are equal, as for a dense
  // law); nullopt when no model fits the cap at any sparsity.
  std::optional<ContinuousOptimum> optimum(bool respect_cap = true) const;
  // S*(N): the best sparsity at fixed N (nullopt when N fits at no sparsity with the cap).
  std::optional<ContinuousOptimum> optimum_at_params(double total_params,
                                                     bool respect_cap = true) const;
  // N*(S): the best size at fixed S (nullopt when nothing fits at S).
  std::optional<ContinuousOptimum> optimum_at_sparsity(double sparsity,
                                                       bool respect_cap = true) const;

 private:
  double memory_bytes(double total_params, double sparsity) const;
  double params_ceiling() const;
  BindingConstraints binding_at(const ContinuousPoint& p, bool respect_cap) const;

  const PlanRequest& request_;
  double min_sparsity_ = 0, max_sparsity_ = 0;
  double min_params_ = 0;
};

}  // namespace moeplan::planner
