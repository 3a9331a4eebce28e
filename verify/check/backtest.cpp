#include "verify/check/backtest.h"

#include <cmath>

#include "util/error.h"
#include "verify/check/ledger_runs.h"

namespace moeplan::verify {

std::variant<BacktestPart, BacktestMissing> backtest_largest_budget(
    const std::vector<LedgerRow>& rows, law::FitSettings settings, double verify_budget_flops) {
  const std::vector<double> budgets = swept_budgets(rows);
  if (budgets.size() < 2)
    return BacktestMissing{"the sweep has " + std::to_string(budgets.size()) +
                           " budget(s) with ok runs; a backtest needs two"};
  const double held_out_budget = budgets.back();
  std::vector<law::FitRun> fit, held_out;
  for (const auto& run : fit_runs_from_ledger(rows))
    (same_budget(run.budget_flops, held_out_budget) ? held_out : fit).push_back(run);
  const auto needed =
      static_cast<std::size_t>(law::free_parameter_count(settings.form, settings.fixed)) + 1;
  if (fit.size() < needed)
    return BacktestMissing{"only " + std::to_string(fit.size()) +
                           " ok runs below the largest budget; a refit needs " +
                           std::to_string(needed)};
  settings.holdout = law::Holdout::kNone;
  settings.bootstrap_samples = 0;
  law::FitResult refit;
  try {
    refit = law::fit_law(fit, settings);
    law::validate(refit.law);
  } catch (const Error& e) {
    return BacktestMissing{std::string("the refit without the largest budget failed: ") + e.what()};
  }
  BacktestPart part;
  part.held_out_budget_flops = held_out_budget;
  part.fit_max_budget_flops = budgets[budgets.size() - 2];
  part.held_out_runs = held_out.size();
  for (const auto& run : held_out) {
    const double predicted =
        law::predict_loss(refit.law, run.total_params, run.tokens, run.sparsity);
    part.relative_error += std::abs(predicted - run.loss) / run.loss / double(held_out.size());
  }
  part.scaled_relative_error = scale_backtest_error(part.relative_error, part.fit_max_budget_flops,
                                                    held_out_budget, verify_budget_flops);
  return part;
}

}  // namespace moeplan::verify
