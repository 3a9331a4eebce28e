#pragma once
// The training loop shared by both devices: data order, LR schedule, gradient accumulation,
// validation, JSON-lines log, progress line, checkpoints, resume, SIGINT and divergence handling.
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>

#include "verify/backend.h"
#include "verify/train_config.h"

namespace moeplan::verify {

inline constexpr int kExitInterrupted = 130;  // SIGINT: checkpoint saved, as shells report ^C

struct TrainOutcome {
  int exit_code = 0;
  std::int64_t steps_done = 0;  // optimizer steps at the end (including resumed ones)
  double first_val_loss = 0;    // at the start of this invocation (NaN when resumed)
  double last_val_loss = 0;
  std::filesystem::path checkpoint;
  // What --summary writes: exit ("done", "stopped", "interrupted"), device, data, architecture,
  // parameters, active_parameters, steps, steps_done, steps_this_run, tokens_per_step,
  // tokens_seen, train_seconds, tokens_per_s, start_up_steps, tokens_per_s_steady (without the
  // first start_up_steps steps), flops_per_token, peak_flops, mfu, mfu_steady (null without a
  // peak), first_val_loss, last_val_loss, last_train_loss, last_loss_total, last_grad_norm,
  // last_lr. Losses not measured in this invocation are null.
  nlohmann::json summary;
};

struct TrainHooks {
  std::function<void(std::int64_t step)> after_step;  // tests: called after each optimizer step
};

// Trains `backend` per `config` (resume/init included), writing status lines to `out`.
// `config` must have passed config.validate() (train() validates; direct callers do it).
// Throws moeplan::Error on bad input and on divergence (NaN/Inf loss or gradient norm: which one,
// the step, the LR and the last good checkpoint, which is left untouched).
TrainOutcome run_training(const TrainConfig& config, Backend& backend, std::ostream& out,
                          const TrainHooks& hooks = {});

// Validates `config`, checks memory, creates the backend for config.device, and runs
// run_training.
TrainOutcome train(const TrainConfig& config, std::ostream& out);

// Per-token training FLOPs used for MFU: 6·N_a + attention (law/flops.h).
double training_flops_per_token(const law::MoeArchitecture& arch);

}  // namespace moeplan::verify
