#pragma once
// Assembles `verify`'s prediction for one model: the law's point prediction and the interval's
// three parts (prediction_interval.h), combined.
#include <string>
#include <vector>

#include "law/fit_law.h"
#include "planner/plan.h"
#include "verify/check/prediction_record.h"
#include "verify/sweep/ledger.h"

namespace moeplan::verify {

// `backtest_settings`: the refit's form, starts, optimiser and fixed coefficients. Throws Error
// when the law has no bootstrap refits.
IntervalParts interval_parts(const law::ScalingLaw& law, const planner::PlannedModel& model,
                             double budget_flops, const std::vector<LedgerRow>& rows,
                             const law::FitSettings& backtest_settings);

Prediction make_prediction(const PredictionInputs& inputs, const law::ScalingLaw& law,
                           const planner::PlannedModel& model, const std::vector<LedgerRow>& rows,
                           const law::FitSettings& backtest_settings,
                           const std::string& moeplan_version);

}  // namespace moeplan::verify
