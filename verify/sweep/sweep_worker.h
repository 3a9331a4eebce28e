#pragma once
// One sweep run, as `moeplan sweep --worker --index I --out SWEEP` does it (the local runner's
// processes and a Slurm array's tasks alike):
//   1. run I of SWEEP/runs.json; done when the ledger has its key as ok or diverged (a failed row
//      is tried again);
//   2. claim it: an exclusive flock on SWEEP/runs/<key>.lock, which the kernel releases when the
//      process dies (even by SIGKILL), so two workers never train the same run;
//   3. train in-process (verify::train) in SWEEP/runs/<key>/ (log.jsonl, checkpoint, summary.json,
//      train.out), resuming from its checkpoint when there is one;
//   4. on divergence retry once with retry_seed() in a fresh directory SWEEP/runs/<key>-retry/;
//      a second divergence is recorded as `diverged` (empty loss cells), any other error as
//      `failed`;
//   5. record the ledger row (ledger.h: locked, atomic, replacing the key's earlier row).
// SIGINT while training checkpoints and returns kInterrupted without a row.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

#include "util/error.h"
#include "verify/sweep/ledger.h"
#include "verify/sweep/sweep_grid.h"

namespace moeplan::verify {

enum class WorkerResult { kRecorded, kAlreadyDone, kClaimedElsewhere, kInterrupted };

struct WorkerOutcome {
  WorkerResult result = WorkerResult::kRecorded;
  std::optional<LedgerRow> row;  // the row recorded (kRecorded) or found (kAlreadyDone)
};

// The training loop's divergence error (NaN/Inf, or a loss spike past the divergence factor).
// MERGE(i11): switch to the typed verify::TrainingDiverged (verify/divergence.h).
bool is_divergence(const moeplan::Error& error);

// SWEEP/runs/<key> (attempt 1) or SWEEP/runs/<key>-retry (attempt 2).
std::filesystem::path run_directory(const std::filesystem::path& sweep_dir, const SweepRun& run,
                                    bool retry);

// A ledger row is final when it is ok or diverged.
bool is_final(const LedgerRow& row);

WorkerOutcome run_sweep_worker(const std::filesystem::path& sweep_dir, std::size_t index,
                               const std::string& moeplan_version, std::ostream& out);

}  // namespace moeplan::verify
