#include "planner/slices.h"

#include <algorithm>
#include <cmath>

#include "planner/continuous_optimum.h"

namespace moeplan::planner {

PlanSlices plan_slices(const PlanResult& plan) {
  PlanRequest request = plan.request;
  request.mode = PlanMode::kOptimum;  // slices span the sparsity bounds
  if (plan.request.mode == PlanMode::kFixedSparsity) {
    request.min_sparsity = std::min(request.min_sparsity, plan.chosen.sparsity);
    request.max_sparsity = std::max(request.max_sparsity, plan.chosen.sparsity);
  }
  const ContinuousProblem problem(request);
  PlanSlices s;
  s.at_params = static_cast<double>(plan.chosen.counts.total);
  s.at_sparsity = plan.chosen.sparsity;
  if (plan.request.cap.any()) {
    const double cap = ContinuousProblem(plan.request).max_params(s.at_sparsity);
    if (cap > 0 && cap < kUncappedMaxParams) s.params_cap = cap;
  }
  const double s_lo = problem.min_sparsity(), s_hi = problem.max_sparsity();
  constexpr int kPoints = 60;
  if (s_hi > s_lo) {
    for (int i = 0; i <= kPoints; ++i) {
      const double sparsity = s_lo + (s_hi - s_lo) * i / kPoints;
      s.loss_over_sparsity.push_back({sparsity, problem.at(s.at_params, sparsity).loss});
    }
  }
  const double n_lo = std::max(problem.min_params(), s.at_params / 100);
  const double n_hi = s.at_params * 100;
  for (int i = 0; i <= kPoints; ++i) {
    const double n = std::exp(std::log(n_lo) + (std::log(n_hi) - std::log(n_lo)) * i / kPoints);
    s.loss_over_params.push_back({n, problem.at(n, s.at_sparsity).loss});
  }
  constexpr int kCurvePoints = 40;
  if (s_hi > s_lo) {
    for (int i = 0; i <= kCurvePoints; ++i) {
      const double n =
          std::exp(std::log(n_lo) + (std::log(n_hi) - std::log(n_lo)) * i / kCurvePoints);
      if (auto o = problem.optimum_at_params(n, false))
        s.optimal_sparsity.push_back({n, o->point.sparsity});
    }
  }
  return s;
}

}  // namespace moeplan::planner
