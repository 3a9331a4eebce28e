#pragma once
// The backtest part of the verify interval: refit the law without the largest swept budget (the
// same form, fixed coefficients and optimiser settings as the caller's), predict that budget's
// runs, and measure the relative error, the error an extrapolation of one budget step makes.
#include <string>
#include <variant>
#include <vector>

#include "law/fit_law.h"
#include "verify/check/prediction_interval.h"
#include "verify/sweep/ledger.h"

namespace moeplan::verify {

struct BacktestMissing {
  std::string reason;  // why no backtest could be made, as a sentence
};

// `settings`: form, starts, optimiser and fixed coefficients of the refit (holdout and
// bootstrap are overridden: none). `verify_budget_flops` scales the error (BacktestPart).
// No backtest (a reason instead) with fewer than two swept budgets or too few runs below the
// largest one for the form's coefficients.
std::variant<BacktestPart, BacktestMissing> backtest_largest_budget(
    const std::vector<LedgerRow>& rows, law::FitSettings settings, double verify_budget_flops);

}  // namespace moeplan::verify
