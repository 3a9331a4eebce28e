#pragma once
// Goodness of fit on a set of runs (App. E reports MSE and Huber on the fit and held-out sets).
#include <cstddef>
#include <vector>

#include "law/fit_objective.h"
#include "law/scaling_law.h"

namespace moeplan::law {

struct FitMetrics {
  std::size_t runs = 0;
  double mse = 0;          // mean (L̂ − L)², nats²
  double rmse = 0;         // √mse, nats
  double mean_huber = 0;   // mean Huber_δ(log L̂ − log L), δ = 1e-3
  double max_abs_error = 0;  // max |L̂ − L|, nats
};

FitMetrics fit_metrics(const Coefficients& coefficients, LawForm form,
                       const std::vector<FitRun>& runs);

}  // namespace moeplan::law
