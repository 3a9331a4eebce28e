#pragma once
// Learning rate at optimizer step s (0-based) of S steps: linear warm-up over W = round(w·S)
// steps, lr = peak·(s+1)/W, then cosine decay to final = f·peak:
//   lr = final + (peak − final)·(1 + cos(π·(s − W)/max(1, S − W)))/2.
#include <cstdint>

namespace moeplan::verify {

struct LrSchedule {
  double peak_lr = 2e-3;
  double warmup_fraction = 0.05;
  double final_fraction = 0.1;  // of peak_lr
  std::int64_t total_steps = 1;

  std::int64_t warmup_steps() const;
  double at(std::int64_t step) const;
};

}  // namespace moeplan::verify
