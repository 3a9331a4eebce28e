#include "verify/divergence.h"

#include <cmath>
#include <sstream>

namespace moeplan::verify {

double smoothed_loss(double previous, double loss) {
  if (std::isnan(previous)) return loss;
  return (1 - kSpikeSmoothing) * previous + kSpikeSmoothing * loss;
}

bool is_loss_spike(std::int64_t step_index, std::int64_t warmup_steps, double loss,
                   double running_min_loss, double factor) {
  if (!(factor > 0) || step_index < warmup_steps) return false;
  if (!(running_min_loss > 0) || !std::isfinite(running_min_loss)) return false;
  return loss > factor * running_min_loss;
}

void throw_diverged(std::int64_t step, const std::string& quantity, double value, double lr,
                    const std::filesystem::path& last_good_checkpoint, std::int64_t steps_done,
                    const std::string& detail) {
  std::ostringstream message;
  message << "training diverged at step " << step << " (lr " << lr << "): ";
  if (detail.empty())
    message << "the " << quantity << " is " << value;
  else
    message << detail;
  message << "; ";
  if (last_good_checkpoint.empty()) {
    message << "no checkpoint was written yet";
  } else {
    message << "the last good checkpoint is " << last_good_checkpoint.string() << " (step "
            << steps_done << " or earlier)";
  }
  message << ". Try a lower --lr or a longer --warmup";
  throw TrainingDiverged(step, quantity, value, lr, last_good_checkpoint, message.str());
}

}  // namespace moeplan::verify
