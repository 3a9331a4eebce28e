#pragma once
// What a sweep was asked, recorded once in SWEEP/sweep.json, and what every run of it (and the
// `verify` run that checks the fitted law) shares: the data and its fingerprint, the vocabulary,
// the context, the recipe rule (planner/recipe.h) and the validation. `sweep` writes it on the
// first call and refuses, on a later call, a configuration that differs; `verify --sweep` reads
// it so that the checking run is trained and evaluated exactly as the sweep's runs were.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "law/architecture.h"
#include "verify/train_config.h"

namespace moeplan::verify {

inline constexpr const char* kSweepSetupFormat = "moeplan-sweep-1";
inline constexpr const char* kSweepSetupFileName = "sweep.json";
inline constexpr const char* kLedgerFileName = "runs.csv";

struct SweepSetup {
  // Data: llm.c shards; the fingerprint ties every ledger row to these exact shards.
  std::filesystem::path data_dir;  // absolute
  std::string data_fingerprint;    // data_fingerprint(data_dir)
  std::int64_t vocab_size = 0;     // from the data's manifest.json, or --vocab
  std::int64_t context = 256;      // --context
  // The grid (sweep_grid.h builds the runs from these and the prior law).
  std::vector<double> budgets_flops;      // --budgets, strictly increasing
  std::vector<std::int64_t> experts;      // E per sparsity column (--sparsities -> E with K)
  std::int64_t top_k = 1;                 // --top-k
  std::int64_t granularity = 1;           // --granularity
  int sizes = 4;                          // --sizes per (C, S) cell
  nlohmann::json prior_law;               // the law whose N*(C, S) centres the sizes (law JSON)
  // The recipe rule (planner/recipe.h): DeepSeek batch and LR at C, a floor on the steps.
  double lr_scale = 1.0;            // --lr-scale, multiplies the DeepSeek peak LR
  std::int64_t min_steps = 200;     // shrink the batch to keep at least this many steps
  double divergence_factor = 1.5;   // loss-spike rule (TrainConfig::divergence_factor)
  // Evaluation: every run measures the same held-out tokens the same way.
  std::int64_t val_tokens = 65536;
  std::string device = "cpu";       // "cuda" or "cpu"
  std::uint64_t seed = 1;           // the first attempt's seed of every run
  int repeat_seeds = 0;             // --seeds N: a few cells repeated with N other seeds (noise)
  std::string moeplan_version;

  nlohmann::json to_json() const;
  static SweepSetup from_json(const nlohmann::json& j, const std::string& origin);
  // The fields that make two sweeps the same experiment (all but version and device).
  nlohmann::json identity() const;
};

// SWEEP/sweep.json; throws Error naming the path when it is missing or not a sweep record.
SweepSetup read_sweep_setup(const std::filesystem::path& sweep_dir);
void write_sweep_setup(const std::filesystem::path& sweep_dir, const SweepSetup& setup);

// A short stable hash (hex) of the data directory's shard names, sizes and contents' hashes and of
// its manifest: a ledger written for other data is refused.
std::string data_fingerprint(const std::filesystem::path& data_dir);

// The training configuration of one run of this setup: the recipe from the rule at
// `budget_flops` (batch, peak LR × lr_scale, steps from tokens = budget / 6·N_a, warm-up 5 %,
// cosine to 10 %), the data, evaluation, divergence rule and `seed`, writing into `run_dir`.
// `verify` trains its planned model with exactly this.
TrainConfig run_train_config(const SweepSetup& setup, const law::MoeArchitecture& arch,
                             double budget_flops, std::uint64_t seed,
                             const std::filesystem::path& run_dir);

}  // namespace moeplan::verify
