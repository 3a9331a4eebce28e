#pragma once
// One training run in parts, so that `moeplan train` runs one and a sweep can run many in one
// process: the constructor sets the run up, step() is one optimizer step, finish() closes it.
// The run writes its lasting status lines to the stream it is given and nothing to std::cerr; a
// progress display (cli/train.cpp draws one on a terminal) gets every step's line through
// TrainHooks::progress.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "verify/backend.h"
#include "verify/checkpoint.h"
#include "verify/lr_schedule.h"
#include "verify/train_config.h"
#include "verify/training_data.h"
#include "verify/training_outputs.h"
#include "verify/training_report.h"

namespace moeplan::verify {

inline constexpr int kExitInterrupted = 130;  // SIGINT: checkpoint saved, as shells report ^C

struct TrainOutcome {
  int exit_code = 0;
  std::int64_t steps_done = 0;  // optimizer steps at the end (including resumed ones)
  // At the start and the end of this invocation; NaN when not measured in it (first: resumed;
  // last: a resumed run that had already finished).
  double first_val_loss = std::numeric_limits<double>::quiet_NaN();
  double last_val_loss = std::numeric_limits<double>::quiet_NaN();
  // The run's latest losses: measured in this invocation, or, when it resumed a run that had
  // already finished, read from the checkpoint (what a sweep's ledger records). Empty only for
  // a checkpoint written before checkpoints carried them.
  std::optional<double> run_val_loss, run_train_loss;
  std::filesystem::path checkpoint;
  // What --summary writes: exit ("done", "stopped", "interrupted"), device, data, architecture,
  // parameters, active_parameters, steps, steps_done, steps_this_run, tokens_per_step,
  // tokens_seen, train_seconds, tokens_per_s, start_up_steps, tokens_per_s_steady (without the
  // first start_up_steps steps), flops_per_token, peak_flops, mfu, mfu_steady (null without a
  // peak), first_val_loss, last_val_loss, last_train_loss, last_loss_total, last_grad_norm,
  // last_lr. Losses not measured in this invocation are null.
  nlohmann::json summary;
};

// A step's status line for a progress display.
struct TrainProgress {
  std::int64_t step = 0;   // optimizer steps done
  std::int64_t steps = 0;  // of the whole run
  std::string line;        // "step 12/100  train_loss 5.1234  lr ...  ETA 3m07s"
  bool lasting = false;    // the run writes `line` to its stream right after this call: clear
  bool end = false;        // the run ends here (done, stopped, interrupted, diverged); no line
};

struct TrainHooks {
  std::function<void(std::int64_t step)> after_step;   // tests: after each optimizer step
  std::function<void(const TrainProgress&)> progress;  // a progress display, when wanted
};

enum class RunEnd { kDone, kStopped, kInterrupted };

class TrainingRun {
 public:
  // Checks the outputs, loads the data, resumes (--resume) or loads the --init weights, writes
  // --save-init, opens the log, and writes the opening line and (unless resumed) the step-0
  // validation loss. `config` must have passed validate(); it, `backend` and `out` must outlive
  // the run. Throws moeplan::Error on bad input.
  TrainingRun(const TrainConfig& config, Backend& backend, std::ostream& out,
              TrainHooks hooks = {});

  std::int64_t steps() const { return steps_; }  // of the whole run, resumed ones included
  const TrainingState& state() const { return state_; }
  const RunStats& stats() const { return stats_; }
  bool finished() const { return state_.step >= steps_; }
  // --stop-after reached with steps left.
  bool stop_requested() const;

  // One optimizer step: its micro-batches, the divergence checks, AdamW, the log record, the
  // validation loss when due, the status line and the periodic checkpoint. Throws
  // TrainingDiverged (verify/divergence.h) on a non-finite loss or gradient norm or a loss
  // spike, leaving the last good checkpoint untouched.
  void step();

  // Saves the checkpoint, writes the closing line and the --summary; the outcome.
  TrainOutcome finish(RunEnd how);

 private:
  void start_from_checkpoint_or_init();
  LossParts accumulate_gradients(std::vector<std::int32_t>* windows);
  void check_loss(std::int64_t step_index, const LossParts& loss, double lr);
  [[noreturn]] void diverged(const std::string& quantity, double value, double lr,
                             const std::string& detail = "") const;
  double validate();  // the mean validation loss, timed for the ETA
  void report_step(double seconds, double lr, double grad_norm, const LossParts& loss);
  void progress(const TrainProgress& report) const;
  void progress_end() const;

  const TrainConfig& config_;
  Backend& backend_;
  std::ostream& out_;
  TrainHooks hooks_;
  TrainingOutputs outputs_;
  TrainingData data_;
  TrainingState state_;
  bool resumed_ = false;
  std::int64_t steps_;
  LrSchedule schedule_;
  std::int64_t eval_every_;
  std::int64_t micro_batches_;
  double flops_per_token_;
  double peak_flops_;
  RunStats stats_;
  // The spike rule's smoothed training loss and its running minimum (verify/divergence.h).
  double smoothed_train_loss_ = std::numeric_limits<double>::quiet_NaN();
  double min_train_loss_ = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace moeplan::verify
