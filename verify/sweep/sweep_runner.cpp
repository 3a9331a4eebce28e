#include "verify/sweep/sweep_runner.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <thread>

#include "util/error.h"
#include "util/sigint.h"
#include "verify/sweep/bracketing.h"
#include "verify/sweep/job_count.h"
#include "verify/sweep/run_list.h"
#include "verify/sweep/sweep_progress.h"
#include "verify/sweep/sweep_worker.h"
#include "verify/train_loop.h"

namespace moeplan::verify {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(200);

pid_t spawn_worker(const RunnerOptions& o, std::size_t index) {
  const std::string exe = o.executable.string(), dir = o.sweep_dir.string();
  const std::string index_text = std::to_string(index);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) fail("cannot start a sweep worker: fork failed");
  if (pid > 0) return pid;
  // The child: die with the runner (SIGINT: checkpoint, then exit), quiet on stdout.
  ::prctl(PR_SET_PDEATHSIG, SIGINT);
  if (::getppid() != parent) ::_exit(kExitInterrupted);
  const int devnull = ::open("/dev/null", O_WRONLY);
  if (devnull >= 0) ::dup2(devnull, STDOUT_FILENO);
  const char* argv[] = {exe.c_str(),        "sweep", "--worker",  "--index",
                        index_text.c_str(), "--out", dir.c_str(), nullptr};
  ::execv(exe.c_str(), const_cast<char* const*>(argv));
  ::_exit(127);
}

std::map<std::string, LedgerRow> final_rows(const std::filesystem::path& sweep_dir) {
  std::map<std::string, LedgerRow> rows;
  for (const LedgerRow& r : read_ledger(sweep_dir / kLedgerFileName))
    if (is_final(r)) rows[r.key] = r;
  return rows;
}

struct WaveResult {
  bool interrupted = false;
  int failed = 0;
};

// Trains `pending` (indices into `runs`), o.jobs (or the default) at a time.
WaveResult run_wave(const RunnerOptions& o, const SigintFlag& sigint,
                    const std::vector<SweepRun>& runs, const std::vector<std::size_t>& pending,
                    SweepProgress& progress) {
  std::vector<SweepRun> pending_runs;
  double pending_flops = 0;
  for (const std::size_t i : pending) {
    pending_runs.push_back(runs[i]);
    pending_flops += runs[i].budget_flops;
  }
  const int jobs =
      std::min(static_cast<int>(pending.size()),
               o.jobs > 0 ? o.jobs : default_jobs(read_sweep_setup(o.sweep_dir), pending_runs));
  progress.start(runs.size(), runs.size() - pending.size(), pending_flops);
  progress.message("sweep: " + std::to_string(pending.size()) + " runs to train, " +
                   std::to_string(jobs) + " at a time");
  std::map<pid_t, std::size_t> running;
  std::size_t next = 0;
  WaveResult result;
  auto last_redraw = std::chrono::steady_clock::now();
  bool forwarded = false;
  while (next < pending.size() || !running.empty()) {
    while (!sigint.raised() && next < pending.size() &&
           running.size() < static_cast<std::size_t>(jobs))
      running[spawn_worker(o, pending[next])] = pending[next], ++next;
    if (sigint.raised() && !forwarded) {
      // Start nothing more; the workers checkpoint (a terminal's ^C reached them already, a
      // `kill -INT` of the runner did not).
      next = pending.size();
      for (const auto& [worker, index] : running) ::kill(worker, SIGINT);
      forwarded = true;
    }
    progress.set_running(running.size());
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      std::this_thread::sleep_for(kPollInterval);
      if (std::chrono::steady_clock::now() - last_redraw > std::chrono::seconds(1)) {
        progress.redraw();
        last_redraw = std::chrono::steady_clock::now();
      }
      continue;
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const SweepRun& run = runs[it->second];
    running.erase(it);
    progress.set_running(running.size());
    const auto rows = final_rows(o.sweep_dir);
    const auto row = rows.find(run.key);
    const bool interrupted = WIFEXITED(status) && WEXITSTATUS(status) == kExitInterrupted;
    if (row == rows.end() && !interrupted && !sigint.raised()) ++result.failed;
    if (row != rows.end() || !(interrupted || sigint.raised()))
      progress.run_finished(run, row == rows.end() ? nullptr : &row->second,
                            "failed (see its train.out and the error above)");
  }
  result.interrupted = sigint.raised();
  return result;
}

}  // namespace

int run_sweep_runner(const RunnerOptions& o, std::ostream& err) {
  const SigintFlag sigint;
  SweepProgress progress(err, o.terminal);
  const SweepSetup setup = read_sweep_setup(o.sweep_dir);
  std::set<std::string> said;   // bracketing decisions already reported
  std::set<std::string> tried;  // runs this invocation started (a failed one is not retried)
  int failed = 0;
  for (;;) {
    std::vector<SweepRun> runs = read_run_list(o.sweep_dir);
    const auto rows = final_rows(o.sweep_dir);
    std::vector<std::size_t> pending;
    for (std::size_t i = 0; i < runs.size(); ++i)
      if (!rows.count(runs[i].key) && !tried.count(runs[i].key)) pending.push_back(i);
    if (pending.empty()) {
      const BracketResult b = bracket_runs(setup, runs, read_ledger(o.sweep_dir / kLedgerFileName));
      for (const std::string& m : b.messages)
        if (said.insert(m).second) progress.message("bracketing: " + m);
      if (b.added.empty()) break;
      append_runs(o.sweep_dir, b.added);
      continue;
    }
    for (const std::size_t i : pending) tried.insert(runs[i].key);
    const WaveResult wave = run_wave(o, sigint, runs, pending, progress);
    failed += wave.failed;
    if (wave.interrupted) {
      progress.finish();
      progress.message("sweep interrupted: run the same command again to resume");
      return kExitInterrupted;
    }
  }
  progress.finish();
  if (failed > 0) {
    progress.message("sweep: " + std::to_string(failed) +
                     " runs failed; run the same command again to retry them");
    return 1;
  }
  progress.message("sweep: all runs done; ledger " + (o.sweep_dir / kLedgerFileName).string());
  return 0;
}

}  // namespace moeplan::verify
