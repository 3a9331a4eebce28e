#pragma once
// The shipped example examples/runs.csv: a small synthetic sweep in the ledger format of
// `moeplan sweep` (SWEEP/runs.csv), so that the README's `law fit` and `law surface` lines run
// as they are. tests/example_runs_test.cpp checks the file equals this text and rewrites it when
// MOEPLAN_WRITE_EXAMPLES=1 is set.
#include <string>

namespace moeplan::testing {

// 3 budgets (1e18, 1e19, 1e20 FLOPs) × 4 sparsities (E = 1, 2, 4, 8; K = 1) × 3 sizes around
// the budget's optimum, losses from the abnar2025 preset with 0.5 % log-normal noise, plus 4
// runs at 1e20 that did not finish (2 diverged, 2 failed: empty loss cells): 40 rows.
std::string example_runs_csv();

}  // namespace moeplan::testing
