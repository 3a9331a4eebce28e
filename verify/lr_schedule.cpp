#include "verify/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace moeplan::verify {

std::int64_t LrSchedule::warmup_steps() const {
  return std::llround(warmup_fraction * static_cast<double>(total_steps));
}

double LrSchedule::at(std::int64_t step) const {
  const std::int64_t w = warmup_steps();
  if (step < w) return peak_lr * static_cast<double>(step + 1) / static_cast<double>(w);
  const double progress =
      std::min(1.0, static_cast<double>(step - w) /
                        static_cast<double>(std::max<std::int64_t>(1, total_steps - w)));
  const double final_lr = final_fraction * peak_lr;
  return final_lr + (peak_lr - final_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace moeplan::verify
