#pragma once
// What a training run reports: the status line of a step and the --summary JSON.
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "verify/backend.h"
#include "verify/checkpoint.h"
#include "verify/train_config.h"

namespace moeplan::verify {

// What this invocation measured so far (a resumed run starts these afresh).
struct RunStats {
  std::int64_t steps_this_run = 0;
  double train_seconds = 0;
  std::vector<double> step_seconds;
  LossParts last_loss;
  double last_grad_norm = std::numeric_limits<double>::quiet_NaN();
  double last_lr = std::numeric_limits<double>::quiet_NaN();
  double first_val_loss = std::numeric_limits<double>::quiet_NaN();  // NaN when resumed
  double last_val_loss = std::numeric_limits<double>::quiet_NaN();   // NaN until measured
  double validation_seconds = 0;  // all validations of this invocation (step 0's included)
  std::int64_t validations = 0;

  // Training tokens per second over this invocation's steps.
  double tokens_per_second(std::int64_t tokens_per_step) const;
};

// "812.4k tok/s".
std::string format_rate(double tokens_per_second);

// Throughput over the steps after the first min(3, n/2) of this invocation, whose times include
// start-up costs (allocations, cuBLAS/cuDNN plans, caches).
std::int64_t start_up_steps(std::size_t steps_this_run);

// Validations still due after `step` of `steps`: at every multiple of `eval_every` and at the
// last step.
std::int64_t validations_left(std::int64_t step, std::int64_t steps, std::int64_t eval_every);

// The time left at `step` of `steps`: this invocation's mean step time × the steps left plus its
// mean validation time × the validations left (validations can take as long as the steps).
double estimated_seconds_left(const RunStats& stats, std::int64_t step, std::int64_t steps,
                              std::int64_t eval_every);

// "step 12/100  train_loss 5.1234  [val_loss 5.2000]  lr 0.002  812.4k tok/s  MFU 41.2%  ETA 3m"
// for the step just done (`peak_flops` <= 0: MFU n/a; `val_loss` printed when `evaluated`;
// the ETA is `seconds_left`).
std::string status_line(const TrainingState& state, std::int64_t steps, const RunStats& stats,
                        bool evaluated, std::int64_t tokens_per_step, double flops_per_token,
                        double peak_flops, double seconds_left);

// The --summary object (its keys: verify/train_loop.h, TrainOutcome::summary); `how` is
// "done", "stopped" or "interrupted".
nlohmann::json training_summary(const TrainConfig& config, const TrainingState& state,
                                const RunStats& stats, const std::string& how);

}  // namespace moeplan::verify
