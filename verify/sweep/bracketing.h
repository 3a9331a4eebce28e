#pragma once
// Bracketing (SPEC §5: a fit needs each budget's optimum inside the swept sizes): when every run
// of a (C, S) cell is in the ledger and its best measured size (lowest val_loss) is the cell's
// smallest or largest, one size beyond that edge is added: the ladder shape nearest to
// N_edge / r (or N_edge · r), r = 8^(1/(sizes − 1)) the grid's spacing, among the shapes beyond
// the edge that keep the step floor. At most kMaxBracketPerSide per side and cell.
#include <string>
#include <vector>

#include "verify/sweep/ledger.h"
#include "verify/sweep/sweep_grid.h"

namespace moeplan::verify {

inline constexpr int kMaxBracketPerSide = 2;

struct BracketResult {
  std::vector<SweepRun> added;
  std::vector<std::string> messages;  // one sentence per decision: added, or why not
};

BracketResult bracket_runs(const SweepSetup& setup, const std::vector<SweepRun>& runs,
                           const std::vector<LedgerRow>& ledger);

}  // namespace moeplan::verify
