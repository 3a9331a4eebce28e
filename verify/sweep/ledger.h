#pragma once
// SWEEP/runs.csv, the sweep's ledger: one row per finished run, keyed by a hash of the run's
// configuration without its seed, so a retry with another seed replaces the failed attempt's row
// and never adds one. `law fit` and `law surface` read it as it is (planner/runs_csv.h: val_loss
// is the loss, N_active the active parameters, rows whose status is not ok left out).
// Writes take an exclusive lock (flock on SWEEP/runs.csv.lock) and replace the file atomically,
// so concurrent workers (a Slurm array) never lose, split or duplicate a row.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace moeplan::verify {

enum class RunStatus { kOk, kDiverged, kFailed };
const char* run_status_name(RunStatus status);  // "ok", "diverged", "failed"

struct LedgerRow {
  std::string key;  // run_key(): hash of the configuration without the seed
  RunStatus status = RunStatus::kOk;
  double budget_flops = 0;        // C
  double params = 0;              // N (total, embeddings included)
  double active_params = 0;       // N_active
  double tokens = 0;              // D
  double sparsity = 0;            // S = (E − K)/E
  std::int64_t d_model = 0, layers = 0, heads = 0, experts = 0, top_k = 0, granularity = 0;
  std::int64_t vocab = 0, context = 0, batch_sequences = 0;
  double peak_lr = 0;
  std::uint64_t seed = 0;
  std::int64_t steps = 0;
  std::optional<double> val_loss, train_loss;  // empty unless status is ok
  double tokens_per_s = 0, seconds = 0;
  std::string data_fingerprint, moeplan_version;
};

// The ledger's header, in column order:
// key,status,C,N,N_active,D,S,d_model,layers,heads,E,K,G,vocab,context,batch,lr,seed,steps,
// val_loss,train_loss,tokens_per_s,seconds,data_fingerprint,moeplan_version
const std::vector<std::string>& ledger_columns();

// All rows of SWEEP/runs.csv (none when the file does not exist); throws Error naming the file and
// line of a malformed row.
std::vector<LedgerRow> read_ledger(const std::filesystem::path& ledger_path);

// Under the lock: replaces the row with the same key, or appends; the file is rewritten
// atomically.
void record_run(const std::filesystem::path& ledger_path, const LedgerRow& row);

}  // namespace moeplan::verify
