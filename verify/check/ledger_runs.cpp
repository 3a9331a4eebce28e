#include "verify/check/ledger_runs.h"

#include <algorithm>
#include <cmath>

namespace moeplan::verify {

std::vector<LedgerRow> ok_rows(const std::vector<LedgerRow>& rows) {
  std::vector<LedgerRow> ok;
  for (const auto& r : rows)
    if (r.status == RunStatus::kOk && r.val_loss) ok.push_back(r);
  return ok;
}

std::vector<law::FitRun> fit_runs_from_ledger(const std::vector<LedgerRow>& rows) {
  std::vector<law::FitRun> runs;
  for (const auto& r : ok_rows(rows))
    runs.push_back({r.params, r.tokens, r.sparsity, *r.val_loss, r.budget_flops, r.active_params});
  return runs;
}

bool same_budget(double a_flops, double b_flops) {
  return std::abs(a_flops - b_flops) <= 1e-6 * std::max(std::abs(a_flops), std::abs(b_flops));
}

std::vector<double> swept_budgets(const std::vector<LedgerRow>& rows) {
  std::vector<double> budgets;
  for (const auto& r : ok_rows(rows)) {
    const bool known = std::any_of(budgets.begin(), budgets.end(),
                                   [&](double c) { return same_budget(c, r.budget_flops); });
    if (!known) budgets.push_back(r.budget_flops);
  }
  std::sort(budgets.begin(), budgets.end());
  return budgets;
}

}  // namespace moeplan::verify
