#include "verify/check/time_estimate.h"

#include "law/percentile.h"
#include "util/error.h"
#include "util/units.h"
#include "verify/check/ledger_runs.h"

namespace moeplan::verify {

std::optional<double> measured_flops_per_second(const std::vector<LedgerRow>& rows) {
  const auto budgets = swept_budgets(rows);
  if (budgets.empty()) return std::nullopt;
  std::vector<double> rates;
  for (const auto& r : ok_rows(rows))
    if (same_budget(r.budget_flops, budgets.back()) && r.seconds > 0)
      rates.push_back(r.budget_flops / r.seconds);
  if (rates.empty()) return std::nullopt;
  return law::percentile(rates, 0.5);
}

void check_time_limit(double budget_flops, double flops_per_second, double limit_seconds) {
  const double seconds = budget_flops / flops_per_second;
  if (seconds <= limit_seconds) return;
  fail("the run needs about ", format_sci(seconds), " s at the sweep's measured ",
       format_sci(flops_per_second), " FLOP/s, over --time-limit ", format_sci(limit_seconds),
       " s; a budget of ", format_sci(flops_per_second * limit_seconds), " FLOPs would fit");
}

}  // namespace moeplan::verify
