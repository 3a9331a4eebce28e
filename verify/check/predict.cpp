#include "verify/check/predict.h"

#include "util/error.h"
#include "verify/check/backtest.h"
#include "verify/check/run_noise.h"

namespace moeplan::verify {

IntervalParts interval_parts(const law::ScalingLaw& law, const planner::PlannedModel& model,
                             double budget_flops, const std::vector<LedgerRow>& rows,
                             const law::FitSettings& backtest_settings) {
  const double n = static_cast<double>(model.counts.total);
  IntervalParts parts;
  parts.predicted_loss = law::predict_loss(law, n, model.tokens, model.sparsity);
  const auto bootstrap =
      law::predicted_loss_interval(law, n, model.tokens, model.sparsity, kIntervalLevel);
  if (!bootstrap) fail("the law has no bootstrap refits: no interval");
  parts.bootstrap = *bootstrap;
  auto backtest = backtest_largest_budget(rows, backtest_settings, budget_flops);
  if (auto* part = std::get_if<BacktestPart>(&backtest))
    parts.backtest = *part;
  else
    parts.backtest_missing = std::get<BacktestMissing>(backtest).reason;
  parts.noise = replicate_noise(rows);
  if (!parts.noise)
    parts.noise_missing =
        "no configuration of the sweep was run with more than one seed "
        "(sweep --seeds N measures it)";
  return parts;
}

Prediction make_prediction(const PredictionInputs& inputs, const law::ScalingLaw& law,
                           const planner::PlannedModel& model, const std::vector<LedgerRow>& rows,
                           const law::FitSettings& backtest_settings,
                           const std::string& moeplan_version) {
  Prediction p;
  p.inputs = inputs;
  p.architecture = model.architecture;
  p.total_params = static_cast<double>(model.counts.total);
  p.active_params = static_cast<double>(model.counts.active);
  p.sparsity = model.sparsity;
  p.tokens = model.tokens;
  p.parts = interval_parts(law, model, inputs.budget_flops, rows, backtest_settings);
  p.predicted_loss = p.parts.predicted_loss;
  p.interval = combined_interval(p.parts);
  p.moeplan_version = moeplan_version;
  return p;
}

}  // namespace moeplan::verify
