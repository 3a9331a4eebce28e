#pragma once
// The sweep's progress on stderr: a line per finished run (always), and on a terminal a status
// line redrawn in place: runs done/total, running, ETA. The ETA divides the FLOPs still to train
// by the FLOP rate of this invocation's finished runs (wall time over their budgets).
#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

#include "verify/sweep/ledger.h"
#include "verify/sweep/sweep_grid.h"

namespace moeplan::verify {

class SweepProgress {
 public:
  SweepProgress(std::ostream& out, bool terminal);
  // A new wave of `total` runs of which `done` are already finished; `pending_flops` to train.
  void start(std::size_t total, std::size_t done, double pending_flops);
  void run_finished(const SweepRun& run, const LedgerRow* row, const std::string& problem);
  void set_running(std::size_t running);
  void message(const std::string& line);  // a plain line (bracketing decisions, summaries)
  void redraw();                          // the status line (terminals only)

 private:
  void clear_status();
  std::ostream& out_;
  bool terminal_;
  std::size_t total_ = 0, done_ = 0, running_ = 0;
  double pending_flops_ = 0, finished_flops_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  bool status_shown_ = false;
};

// "1h02m", "3m20s", "45s".
std::string format_duration(double seconds);

}  // namespace moeplan::verify
