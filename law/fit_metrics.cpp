#include "law/fit_metrics.h"

#include <algorithm>
#include <cmath>

namespace moeplan::law {

FitMetrics fit_metrics(const Coefficients& coefficients, LawForm form,
                       const std::vector<FitRun>& runs) {
  FitMetrics m;
  m.runs = runs.size();
  if (runs.empty()) return m;
  for (const FitRun& run : runs) {
    const double predicted =
        loss_terms(coefficients, form, run.total_params, run.tokens, run.sparsity).total();
    const double error = predicted - run.loss;
    m.mse += error * error;
    m.mean_huber += huber(std::log(predicted) - std::log(run.loss));
    m.max_abs_error = std::max(m.max_abs_error, std::fabs(error));
  }
  m.mse /= static_cast<double>(runs.size());
  m.mean_huber /= static_cast<double>(runs.size());
  m.rmse = std::sqrt(m.mse);
  return m;
}

}  // namespace moeplan::law
