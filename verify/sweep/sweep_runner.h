#pragma once
// The local runner of `moeplan sweep`: trains every run of SWEEP/runs.json not final in the
// ledger, `jobs` at a time, each in its own worker process (`moeplan sweep --worker --index I
// --out SWEEP`, sweep_worker.h) started from `executable` with PR_SET_PDEATHSIG, so a killed
// runner takes its workers down (they get SIGINT: checkpoint and exit). When a wave is done,
// bracketing (bracketing.h) may append runs, which form the next wave. SIGINT stops starting
// runs, waits for the workers (which checkpoint) and returns kExitInterrupted.
#include <filesystem>
#include <ostream>

namespace moeplan::verify {

struct RunnerOptions {
  std::filesystem::path sweep_dir;
  std::filesystem::path executable;  // the moeplan binary (/proc/self/exe)
  int jobs = 0;                      // 0: default_jobs()
  bool terminal = false;             // stderr is a terminal: draw the status line
};

// 0 when every run is final in the ledger, 1 when some failed, kExitInterrupted on SIGINT.
int run_sweep_runner(const RunnerOptions& options, std::ostream& err);

}  // namespace moeplan::verify
