#include "verify/cpu/adamw.h"

#include <cmath>

namespace moeplan::verify {

void adamw_update(float* param, const float* grad, float* m, float* v, std::int64_t n,
                  const AdamWSettings& s, double lr, std::int64_t step, double grad_scale) {
  const double bias1 = 1.0 - std::pow(s.beta1, static_cast<double>(step));
  const double bias2 = 1.0 - std::pow(s.beta2, static_cast<double>(step));
  const float decay = static_cast<float>(1.0 - lr * s.weight_decay);
  const float b1 = static_cast<float>(s.beta1), b2 = static_cast<float>(s.beta2);
  const float step_size = static_cast<float>(lr / bias1);
  const float sqrt_bias2 = static_cast<float>(std::sqrt(bias2));
  const float eps = static_cast<float>(s.eps), scale = static_cast<float>(grad_scale);
  for (std::int64_t i = 0; i < n; ++i) {
    const float g = grad[i] * scale;
    param[i] *= decay;
    m[i] = b1 * m[i] + (1.0f - b1) * g;
    v[i] = b2 * v[i] + (1.0f - b2) * g * g;
    param[i] -= step_size * m[i] / (std::sqrt(v[i]) / sqrt_bias2 + eps);
  }
}

}  // namespace moeplan::verify
