#pragma once
// How fast this machine trains the sweep's models, for the dry run's time estimates: the median
// training FLOP/s (tokens/s · 6·N_a) of the ledger's finished runs when there are some, else a
// quick timing of a few steps of the grid's smallest model on random tokens (no checkpoint, no
// files, well under 2 s). Small models run below the device's peak, so this is an estimate.
#include <string>
#include <vector>

#include "verify/sweep/ledger.h"
#include "verify/sweep/sweep_grid.h"

namespace moeplan::verify {

struct Throughput {
  double flops_per_s = 0;  // 6·N_a · tokens/s
  std::string source;      // "the ledger's N finished runs" or "a timing of ... on DEVICE"
};

Throughput ledger_throughput(const std::vector<LedgerRow>& ledger);  // flops_per_s 0: no rows

// Times `steps` optimizer steps of `run` (its recipe's batch) on the setup's device.
Throughput measured_throughput(const SweepSetup& setup, const SweepRun& run);

// The ledger's when it has finished runs, else measured on the smallest run.
Throughput estimate_throughput(const SweepSetup& setup, const std::vector<SweepRun>& runs,
                               const std::vector<LedgerRow>& ledger);

// Seconds to train `run` at `throughput` (its budget / FLOP/s).
double estimated_seconds(const SweepRun& run, const Throughput& throughput);

}  // namespace moeplan::verify
