#pragma once
// The sweep ledger's rows as the law's fitting data.
#include <vector>

#include "law/fit_objective.h"
#include "verify/sweep/ledger.h"

namespace moeplan::verify {

// The rows whose status is ok (and which carry a val_loss).
std::vector<LedgerRow> ok_rows(const std::vector<LedgerRow>& rows);

// N, D, S, val_loss, C and N_active of each ok row.
std::vector<law::FitRun> fit_runs_from_ledger(const std::vector<LedgerRow>& rows);

// Budgets equal up to the ledger's printed precision.
bool same_budget(double a_flops, double b_flops);

// The distinct budgets of the ok rows, increasing.
std::vector<double> swept_budgets(const std::vector<LedgerRow>& rows);

}  // namespace moeplan::verify
