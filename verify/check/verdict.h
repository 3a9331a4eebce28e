#pragma once
// The verdict of `verify` (docs/math.md): PASS when the measured loss is within the tolerance of
// the prediction, |L − L̂| / L̂ ≤ tolerance, AND inside the prediction's interval; otherwise FAIL,
// naming which of the two failed. The exit codes are defined here once.
#include <string>

#include "law/scaling_law.h"

namespace moeplan::verify {

inline constexpr int kExitVerifyPass = 0;
// FAIL is not an error: a distinct status (1 is an error, 2 a usage error, 130 an interrupt).
inline constexpr int kExitVerifyFail = 3;
inline constexpr double kDefaultTolerance = 0.02;  // --tolerance: 2 % of the predicted loss

struct Verdict {
  double predicted_loss = 0, measured_loss = 0;
  double relative_error = 0;  // (measured − predicted) / predicted, signed
  double tolerance = 0;
  law::Range interval;
  bool within_tolerance = false;
  bool inside_interval = false;
  bool passed() const { return within_tolerance && inside_interval; }
  int exit_code() const { return passed() ? kExitVerifyPass : kExitVerifyFail; }
};

// Throws Error for a non-positive or non-finite loss or tolerance.
Verdict judge(double predicted_loss, const law::Range& interval, double measured_loss,
              double tolerance);

// "PASS", or "FAIL: <which failed, with the numbers>".
std::string verdict_line(const Verdict& verdict);

}  // namespace moeplan::verify
