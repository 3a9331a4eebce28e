#include "verify/sweep/sweep_worker.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/output_file.h"
#include "verify/checkpoint.h"
#include "verify/divergence.h"
#include "verify/sweep/run_key.h"
#include "verify/sweep/run_list.h"
#include "verify/sweep/sweep_setup.h"
#include "verify/train_loop.h"

namespace moeplan::verify {
namespace {

// The run's claim: a non-blocking exclusive flock held for the object's lifetime.
class RunClaim {
 public:
  explicit RunClaim(const std::filesystem::path& lock_path) {
    fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot open '", lock_path.string(), "': ", std::strerror(errno));
    held_ = ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
  }
  ~RunClaim() { ::close(fd_); }
  RunClaim(const RunClaim&) = delete;
  RunClaim& operator=(const RunClaim&) = delete;
  bool held() const { return held_; }

 private:
  int fd_ = -1;
  bool held_ = false;
};

std::optional<LedgerRow> ledger_row(const std::filesystem::path& sweep_dir,
                                    const std::string& key) {
  for (const LedgerRow& r : read_ledger(sweep_dir / kLedgerFileName))
    if (r.key == key) return r;
  return std::nullopt;
}

LedgerRow planned_row(const SweepSetup& setup, const SweepRun& run, const TrainConfig& config,
                      const std::string& version) {
  const law::ParamCounts counts = law::count_params(config.arch);
  LedgerRow r;
  r.key = run.key;
  r.budget_flops = run.budget_flops;
  r.params = static_cast<double>(counts.total);
  r.active_params = static_cast<double>(counts.active);
  r.tokens = static_cast<double>(config.tokens);
  r.sparsity = config.arch.sparsity();
  r.d_model = config.arch.d_model, r.layers = config.arch.n_layers, r.heads = config.arch.n_heads;
  r.experts = config.arch.experts, r.top_k = config.arch.active_experts;
  r.granularity = config.arch.granularity;
  r.vocab = config.arch.vocab_size, r.context = config.arch.context;
  r.batch_sequences = config.batch_sequences;
  r.peak_lr = config.peak_lr;
  r.seed = config.seed;
  r.steps = config.total_steps();
  r.data_fingerprint = setup.data_fingerprint;
  r.moeplan_version = version;
  return r;
}

void fill_measurements(const TrainOutcome& outcome, LedgerRow* row) {
  // From the run's state, not this invocation's measurements: a worker killed after the run's
  // final checkpoint but before its row resumes with nothing left to train, and measures none.
  const nlohmann::json& s = outcome.summary;
  row->val_loss = outcome.run_val_loss;
  row->train_loss = outcome.run_train_loss;
  row->tokens_per_s = s.value("tokens_per_s", 0.0);
  row->seconds = s.value("train_seconds", 0.0);
}

struct Attempt {
  std::optional<TrainOutcome> outcome;  // empty after an error
  bool diverged = false;
  std::string error;
};

// Trains one attempt, resuming from its directory's checkpoint when there is one.
Attempt train_attempt(const TrainConfig& base, std::ostream& out) {
  TrainConfig config = base;
  std::error_code ec;
  if (std::filesystem::exists(config.out_dir / kCheckpointFileName, ec))
    config.resume = config.out_dir;
  std::filesystem::create_directories(config.out_dir, ec);
  Attempt attempt;
  try {
    // A train.out that cannot be written (a full disk) fails the attempt with that cause.
    AppendFile train_log(config.out_dir / "train.out", AppendFile::Start::kAppend);
    attempt.outcome = train(config, train_log.stream());
    train_log.stream().flush();
  } catch (const TrainingDiverged& e) {  // NaN/Inf, or a loss spike (verify/divergence.h)
    attempt.diverged = true;
    attempt.error = e.what();
    out << "run in " << config.out_dir.string() << ": " << e.what() << "\n";
  } catch (const Error& e) {
    attempt.error = e.what();
    out << "run in " << config.out_dir.string() << ": " << e.what() << "\n";
  }
  return attempt;
}

}  // namespace

std::filesystem::path run_directory(const std::filesystem::path& sweep_dir, const SweepRun& run,
                                    bool retry) {
  return sweep_dir / "runs" / (run.key + (retry ? "-retry" : ""));
}

bool is_final(const LedgerRow& row) {
  return row.status != RunStatus::kFailed;
}

WorkerOutcome run_sweep_worker(const std::filesystem::path& sweep_dir, std::size_t index,
                               const std::string& moeplan_version, std::ostream& out) {
  const SweepSetup setup = read_sweep_setup(sweep_dir);
  const std::vector<SweepRun> runs = read_run_list(sweep_dir);
  if (index >= runs.size())
    fail("--index ", index, " is past the sweep's ", runs.size(), " runs (", kRunListFileName, ")");
  const SweepRun& run = runs[index];
  const auto done = [&]() -> std::optional<WorkerOutcome> {
    auto row = ledger_row(sweep_dir, run.key);
    if (row && is_final(*row)) return WorkerOutcome{WorkerResult::kAlreadyDone, row};
    return std::nullopt;
  };
  if (auto d = done()) return *d;
  std::filesystem::create_directories(sweep_dir / "runs");
  const RunClaim claim(sweep_dir / "runs" / (run.key + ".lock"));
  if (!claim.held()) return {WorkerResult::kClaimedElsewhere, std::nullopt};
  if (auto d = done()) return *d;  // finished by another worker between the check and the claim

  // Attempt 2's directory exists only once attempt 1 diverged: go straight on with it.
  const bool retrying = std::filesystem::exists(run_directory(sweep_dir, run, true));
  TrainConfig config =
      run_train_config(setup, run.arch, run.budget_flops,
                       retrying ? retry_seed(setup, run.replicate) : run_seed(setup, run.replicate),
                       run_directory(sweep_dir, run, retrying));
  Attempt attempt = train_attempt(config, out);
  if (attempt.diverged && !retrying) {
    config = run_train_config(setup, run.arch, run.budget_flops, retry_seed(setup, run.replicate),
                              run_directory(sweep_dir, run, true));
    out << "retrying with seed " << config.seed << "\n";
    attempt = train_attempt(config, out);
  }
  if (attempt.outcome && attempt.outcome->exit_code == kExitInterrupted)
    return {WorkerResult::kInterrupted, std::nullopt};
  LedgerRow row = planned_row(setup, run, config, moeplan_version);
  if (attempt.outcome)
    fill_measurements(*attempt.outcome, &row);
  else
    row.status = attempt.diverged ? RunStatus::kDiverged : RunStatus::kFailed;
  record_run(sweep_dir / kLedgerFileName, row);
  return {WorkerResult::kRecorded, row};
}

}  // namespace moeplan::verify
