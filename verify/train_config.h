#pragma once
// Everything `moeplan train` needs to know, independent of the command line.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "law/architecture.h"
#include "util/checked_count.h"
#include "verify/backend.h"

namespace moeplan::verify {

// Throws moeplan::Error unless `device` is "cuda" or "cpu" (TrainConfig::validate and
// `train --info`, which needs no other setting).
void check_device_name(const std::string& device);

// The GPU whose peak (planner/budget.h's table) MFU uses on cuda without --peak-flops.
inline constexpr const char* kMfuGpu = "h100";

struct TrainConfig {
  law::MoeArchitecture arch;
  std::filesystem::path data_dir;          // llm.c shards; empty with random_data
  bool random_data = false;                // uniform random tokens instead (throughput benchmarks)
  std::int64_t tokens = 0;                 // training tokens; steps = ceil(tokens / batch tokens)
  std::int64_t batch_sequences = 8;        // per optimizer step; batch tokens = this · context
  std::int64_t micro_batch_sequences = 0;  // per forward/backward; 0: the whole batch
  double peak_lr = 2e-3;
  double warmup_fraction = 0.05;
  double final_lr_fraction = 0.1;
  AdamWSettings adamw;
  std::int64_t eval_every = 0;        // steps between validation losses; 0: about 10 per run
  std::int64_t val_tokens = 65536;    // held-out target tokens per validation
  std::int64_t checkpoint_every = 0;  // steps; 0: only at the end (and on SIGINT)
  bool write_checkpoints = true;      // false: benchmarks, no checkpoint at all (no resume)
  std::filesystem::path out_dir = "moeplan-run";
  std::filesystem::path log_path;           // JSON lines; empty: none
  std::filesystem::path summary_path;       // JSON summary at the end; empty: none
  std::filesystem::path dump_batches_path;  // int32 (steps, batch, context+1) windows; empty: none
  std::filesystem::path save_init_path;     // initial weights (safetensors); empty: none
  std::filesystem::path resume;             // checkpoint file or run directory
  std::filesystem::path init;               // safetensors weights to start from
  std::uint64_t seed = 1;                   // initial weights and data order
  std::string device = "cuda";              // "cuda" or "cpu"
  double peak_flops = 0;                    // for MFU; 0: kMfuGpu's peak on cuda, none on cpu
  std::int64_t stop_after_steps = 0;  // end this invocation after this many steps (0: run all)
  // The caller wants a progress line (a terminal is attached). The loop writes none itself:
  // `moeplan train` draws it from TrainHooks::progress (verify/training_run.h).
  bool progress = false;
  // Loss-spike rule (verify/divergence.h): > 0 stops the run as diverged when, after the
  // warm-up, the training loss exceeds this × its running minimum; 0: off.
  double divergence_factor = 0;

  // The peak FLOP/s that MFU is measured against: peak_flops, else kMfuGpu's on cuda, else 0.
  double mfu_peak_flops() const;

  std::int64_t micro_batch() const {
    return micro_batch_sequences > 0 ? micro_batch_sequences : batch_sequences;
  }
  // Checked (util/checked_count.h): --batch 1e12 with --context 1e12 overflowed.
  std::int64_t tokens_per_step() const {
    return (CheckedCount(batch_sequences) * arch.context).value();
  }
  std::int64_t total_steps() const;
  void validate() const;  // throws moeplan::Error naming the bad setting
  nlohmann::json to_json() const;
};

// --resume: the settings that fix the learning-rate schedule (the run's steps, --batch, --lr,
// --warmup, --final-lr-fraction) must be those of the run that wrote the checkpoint
// (`saved_config_json`, TrainConfig::to_json as stored in it; empty for a checkpoint that has
// none); otherwise throws Error naming each one that changed. --micro-batch may change (it only
// splits the same batch), and so may --seed (the checkpoint's seed fixes the data order).
void check_resume_settings(const TrainConfig& config, const std::string& saved_config_json,
                           const std::string& checkpoint);

}  // namespace moeplan::verify
