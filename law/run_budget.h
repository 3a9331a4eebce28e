#pragma once
// The training budget C of a run of a sweep: the CSV's budget column when every run has it, else
// C = 6·N_a·D (the law's convention, paper §5) when every run has N_a, else unknown.
#include <vector>

#include "law/fit_objective.h"

namespace moeplan::law {

enum class BudgetSource { kNone, kColumn, kSixNaD };

BudgetSource budget_source(const std::vector<FitRun>& runs);

// C of `run` from `source` (kNone gives 0).
double run_budget_flops(const FitRun& run, BudgetSource source);

}  // namespace moeplan::law
