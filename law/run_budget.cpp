#include "law/run_budget.h"

#include <algorithm>

#include "law/flops.h"

namespace moeplan::law {

BudgetSource budget_source(const std::vector<FitRun>& runs) {
  if (runs.empty()) return BudgetSource::kNone;
  if (std::all_of(runs.begin(), runs.end(), [](const FitRun& r) { return r.budget_flops > 0; }))
    return BudgetSource::kColumn;
  if (std::all_of(runs.begin(), runs.end(), [](const FitRun& r) { return r.active_params > 0; }))
    return BudgetSource::kSixNaD;
  return BudgetSource::kNone;
}

double run_budget_flops(const FitRun& run, BudgetSource source) {
  switch (source) {
    case BudgetSource::kColumn: return run.budget_flops;
    case BudgetSource::kSixNaD:
      return training_flops(six_na_flops_per_token(run.active_params), run.tokens);
    case BudgetSource::kNone: return 0;
  }
  return 0;
}

}  // namespace moeplan::law
