#include "verify/check/verdict.h"

#include <cmath>

#include "util/error.h"
#include "util/format.h"

namespace moeplan::verify {

Verdict judge(double predicted_loss, const law::Range& interval, double measured_loss,
              double tolerance) {
  if (!(std::isfinite(predicted_loss) && predicted_loss > 0))
    fail("predicted loss must be a positive number, got ", predicted_loss);
  if (!(std::isfinite(measured_loss) && measured_loss > 0))
    fail("measured loss must be a positive number, got ", measured_loss);
  if (!(std::isfinite(tolerance) && tolerance > 0))
    fail("--tolerance must be a positive fraction, got ", tolerance);
  Verdict v;
  v.predicted_loss = predicted_loss;
  v.measured_loss = measured_loss;
  v.tolerance = tolerance;
  v.interval = interval;
  v.relative_error = (measured_loss - predicted_loss) / predicted_loss;
  v.within_tolerance = std::abs(v.relative_error) <= tolerance;
  v.inside_interval = interval.contains(measured_loss);
  return v;
}

std::string verdict_line(const Verdict& v) {
  if (v.passed()) return "PASS";
  std::string line = "FAIL:";
  if (!v.within_tolerance)
    line += " measured " + format_number("%.4f", v.measured_loss) + " is " +
            format_number("%+.2f", 100 * v.relative_error) + " % from predicted " +
            format_number("%.4f", v.predicted_loss) + " (tolerance " +
            format_number("%.2f", 100 * v.tolerance) + " %)";
  if (!v.within_tolerance && !v.inside_interval) line += ";";
  if (!v.inside_interval)
    line += " measured " + format_number("%.4f", v.measured_loss) + " outside the interval [" +
            format_number("%.4f", v.interval.lo) + ", " + format_number("%.4f", v.interval.hi) +
            "]";
  return line;
}

}  // namespace moeplan::verify
