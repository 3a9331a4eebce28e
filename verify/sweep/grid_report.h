#pragma once
// `sweep --dry-run`: the sweep's runs with their recipes (architecture, N, N_a, tokens, steps,
// batch, peak LR, estimated time, FLOPs), as a table or JSON, with the totals and where the
// time estimate comes from.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "verify/sweep/ledger.h"
#include "verify/sweep/sweep_grid.h"
#include "verify/sweep/throughput.h"

namespace moeplan::verify {

struct GridReport {
  const SweepSetup& setup;
  const std::vector<SweepRun>& runs;
  const std::vector<LedgerRow>& ledger;  // marks runs already finished
  Throughput throughput;
};

std::string grid_table(const GridReport& report);
nlohmann::json grid_json(const GridReport& report);

}  // namespace moeplan::verify
