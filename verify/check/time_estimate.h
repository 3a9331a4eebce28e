#pragma once
// How long a verify run will take, from the speed the sweep measured: its runs' budgets over
// their wall times (C / seconds). The largest swept budget's runs are the nearest in size to an
// extrapolation, so their median rate is used.
#include <optional>
#include <vector>

#include "verify/sweep/ledger.h"

namespace moeplan::verify {

// Median C / seconds over the ok rows at the largest budget that have a time; nullopt when none.
std::optional<double> measured_flops_per_second(const std::vector<LedgerRow>& rows);

// Throws Error unless `budget_flops` fits `limit_seconds` at `flops_per_second`, naming the
// estimate and the budget that would fit.
void check_time_limit(double budget_flops, double flops_per_second, double limit_seconds);

}  // namespace moeplan::verify
