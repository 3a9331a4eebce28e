#pragma once
// When a training run has diverged, and the error that says so. Backends never throw for a
// non-finite loss or gradient norm (verify/backend.h); the loop checks what they return here and
// throws TrainingDiverged, which a sweep catches to record the run as diverged and go on.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>

#include "util/error.h"

namespace moeplan::verify {

class TrainingDiverged : public Error {
 public:
  // `last_good_checkpoint` is empty when no checkpoint was written yet.
  TrainingDiverged(std::int64_t step, std::string quantity, double value, double lr,
                   std::filesystem::path last_good_checkpoint, const std::string& message)
      : Error(message),
        step(step),
        quantity(std::move(quantity)),
        value(value),
        lr(lr),
        last_good_checkpoint(std::move(last_good_checkpoint)) {}

  std::int64_t step;     // the optimizer step (1-based) that diverged
  std::string quantity;  // "training loss", "gradient norm" or "loss spike"
  double value;          // the offending value (NaN/Inf, or the spiking training loss)
  double lr;             // the learning rate of that step
  std::filesystem::path last_good_checkpoint;
};

// The loss-spike rule reads the training loss smoothed by an exponential moving average with
// this weight per step (about ten steps' memory): one noisy small batch is not a divergence (a
// sweep's smallest runs take batches of a single short sequence), a loss that climbs and stays is.
inline constexpr double kSpikeSmoothing = 0.1;

// The moving average after one more step's `loss`: `loss` itself when `previous` is NaN (none yet).
double smoothed_loss(double previous, double loss);

// The loss-spike rule (--divergence-factor F): from the first step after the warm-up on
// (step_index >= warmup_steps, 0-based), a smoothed training loss above F × the lowest smoothed
// training loss seen so far in this invocation is divergence. F <= 0 turns the rule off; so does
// a running minimum that is not yet known (NaN) or not positive.
bool is_loss_spike(std::int64_t step_index, std::int64_t warmup_steps, double loss,
                   double running_min_loss, double factor);

// Throws TrainingDiverged for step `step` (1-based) with the diagnosis message: which quantity,
// its value (or `detail` in its place), the LR and the last good checkpoint, saved at
// `steps_done` steps or earlier (empty `last_good_checkpoint`: none written yet).
[[noreturn]] void throw_diverged(std::int64_t step, const std::string& quantity, double value,
                                 double lr, const std::filesystem::path& last_good_checkpoint,
                                 std::int64_t steps_done, const std::string& detail = "");

}  // namespace moeplan::verify
