#pragma once
// AdamW on the CPU (twin of verify/cuda/adamw.cu) with torch.optim.AdamW semantics (decoupled
// weight decay on every parameter, bias-corrected moments), after clipping the global gradient norm
// as torch.nn.utils.clip_grad_norm_ does:
//   c = min(1, clip / (‖g‖₂ + 1e-6));  g ← c·g      (clip_coefficient, verify/backend.h)
//   θ ← θ·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   θ ← θ − (lr / (1−β1ᵗ)) · m / (sqrt(v)/sqrt(1−β2ᵗ) + ε)          (t = step count, from 1)
#include <cstdint>

#include "verify/backend.h"

namespace moeplan::verify {

// One AdamW update of n parameters with gradients `grad` multiplied by `grad_scale` (the clip
// factor); `step` is the step count after this update (1 for the first).
void adamw_update(float* param, const float* grad, float* m, float* v, std::int64_t n,
                  const AdamWSettings& settings, double lr, std::int64_t step, double grad_scale);

}  // namespace moeplan::verify
