#pragma once
// The isoFLOP slices the report plots, from the continuous relaxation at the plan's budget
// (the memory cap is ignored here; the sparsity bounds are kept):
//   loss over S at the chosen N (Fig. 2a), loss over N at the chosen S (Fig. 2b/c),
//   and S*(N), the optimal sparsity against total parameters (Fig. 4).
#include <optional>
#include <vector>

#include "planner/plan.h"

namespace moeplan::planner {

struct SlicePoint {
  double x = 0, y = 0;
};

struct PlanSlices {
  double at_params = 0;                        // N of the sparsity slice
  double at_sparsity = 0;                      // S of the size slice
  // The largest N that fits the memory cap (and --max-params) at at_sparsity, in the
  // relaxation: what stops the plan left of the size slice's minimum. Absent without a cap.
  std::optional<double> params_cap;
  std::vector<SlicePoint> loss_over_sparsity;  // (S, L)
  std::vector<SlicePoint> loss_over_params;    // (N, L)
  std::vector<SlicePoint> optimal_sparsity;    // (N, S*)
};

PlanSlices plan_slices(const PlanResult& plan);

}  // namespace moeplan::planner
