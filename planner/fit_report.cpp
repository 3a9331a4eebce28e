#include "planner/fit_report.h"

#include <cstdio>
#include <sstream>

#include "law/law_json.h"

namespace moeplan::planner {
namespace {

nlohmann::json metrics_json(const law::FitMetrics& m) {
  return {{"runs", m.runs},
          {"mse", m.mse},
          {"rmse", m.rmse},
          {"mean_huber", m.mean_huber},
          {"max_abs_error", m.max_abs_error}};
}

std::string fmt(const char* format, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

// One row per coefficient: value, and the bootstrap interval when there is one; fixed
// coefficients and estimates outside their own interval are marked.
void coefficient_rows(const law::FitResult& result, std::ostringstream& out) {
  const bool intervals = !result.intervals.empty();
  out << "coefficient        value";
  if (intervals)
    out << "      " << fmt("%g", 100.0 * result.interval_level) << "% bootstrap interval";
  out << "\n";
  const auto named = law::named_coefficients(result.law.coefficients, result.law.form);
  for (std::size_t k = 0; k < named.size(); ++k) {
    char line[160];
    std::snprintf(line, sizeof line, "  %-10s %14.6g", named[k].first.c_str(), named[k].second);
    out << line;
    if (law::is_fixed(result.fixed, static_cast<int>(k))) {
      out << "   fixed\n";
      continue;
    }
    if (intervals) {
      const auto& ci = result.intervals[k];
      std::snprintf(line, sizeof line, "   [%.6g, %.6g]", ci.lo, ci.hi);
      out << line << (ci.outside() ? "  (estimate outside)" : "");
    }
    out << "\n";
  }
  if (intervals) out << "interval: " << interval_description(result.interval_level) << "\n";
  if (!result.fixed.empty()) {
    out << "fixed by --fix:";
    for (const auto& f : result.fixed) out << " " << f.name << " = " << fmt("%.6g", f.value);
    out << "\n";
  }
}

}  // namespace

std::string interval_description(double level) {
  const double tail = 100.0 * (1.0 - level) / 2.0;
  return "percentile interval of the bootstrap refits' estimates (" + fmt("%g", tail) + "th to " +
         fmt("%g", 100.0 - tail) + "th percentile); the full fit's estimate may lie outside it";
}

nlohmann::json fit_law_json(const law::FitResult& result, const FitReportInputs& inputs) {
  nlohmann::json j = law::law_to_json(result.law);
  nlohmann::json fit;
  fit["runs_file"] = inputs.runs_path;
  fit["runs"] = inputs.runs_total;
  fit["left_out"] = inputs.left_out_json;
  fit["holdout"] = inputs.holdout;
  fit["objective"] = "sum of Huber(delta=1e-3) on log residuals, prediction = log-sum-exp of terms";
  fit["starts"] = result.starts;
  fit["start_grid"] = inputs.starts;
  fit["failed_starts"] = result.failed_starts;
  fit["best_objective"] = result.objective;
  fit["grid_best_objective"] = result.grid_objective;
  fit["stopping"] =
      "every start: scipy L-BFGS-B defaults (ftol 2.2e-9 on max(|f|,1), projected gradient 1e-5); "
      "then the 8 best distinct optima continued until a relative decrease below 1e-10";
  fit["theta"] = nlohmann::json::object();
  const auto& names = law::parameter_names(result.law.form);
  for (int k = 0; k < law::parameter_count(result.law.form); ++k) fit["theta"][names[k]] = result.theta[k];
  fit["fixed"] = nlohmann::json::object();
  for (const auto& f : result.fixed) fit["fixed"][f.name] = f.value;
  fit["fit_set"] = metrics_json(result.fit_metrics);
  fit["held_out_set"] = metrics_json(result.held_out_metrics);
  fit["seconds"] = inputs.seconds;
  if (!result.intervals.empty()) {
    fit["bootstrap_samples"] = result.law.bootstrap.size();
    fit["intervals"] = nlohmann::json::object();
    for (const auto& ci : result.intervals) {
      nlohmann::json entry = {{"value", ci.value}, {"lo", ci.lo}, {"hi", ci.hi}};
      if (ci.fixed) entry["fixed"] = true;
      if (ci.outside()) entry["estimate_outside_interval"] = true;
      fit["intervals"][ci.name] = entry;
    }
    fit["interval_level"] = result.interval_level;
    fit["interval"] = interval_description(result.interval_level);
  }
  j["fit"] = fit;
  j["warnings"] = result.warnings;
  return j;
}

std::string fit_report_table(const law::FitResult& result, const FitReportInputs& inputs) {
  std::ostringstream out;
  out << "law fit: " << law::form_name(result.law.form) << " on " << inputs.runs_path << " ("
      << inputs.runs_total << " runs: " << result.fit_runs.size() << " fit, "
      << result.held_out_runs.size() << " held out by '" << inputs.holdout << "')\n";
  if (!inputs.left_out.empty()) out << inputs.left_out << " (their status is not ok)\n";
  out << "starts: " << inputs.starts << ", best objective " << fmt("%.6e", result.objective)
      << " (" << fmt("%.6e", result.grid_objective) << " over the starts, then polished), "
      << fmt("%.1f", inputs.seconds) << " s\n\n";
  coefficient_rows(result, out);
  auto metrics = [&](const char* label, const law::FitMetrics& m) {
    char line[200];
    if (m.runs == 0) {
      std::snprintf(line, sizeof line, "  %-9s %5s\n", label, "-");
    } else {
      std::snprintf(line, sizeof line, "  %-9s %5zu  %11.3e  %10.5f  %11.3e  %10.5f\n", label, m.runs,
                    m.mse, m.rmse, m.mean_huber, m.max_abs_error);
    }
    out << line;
  };
  out << "\nset        runs   MSE (nats²)  RMSE (nats)  mean Huber  max |err|\n";
  metrics("fit", result.fit_metrics);
  metrics("held-out", result.held_out_metrics);
  if (inputs.warnings_in_table && !result.warnings.empty()) {
    out << "\nwarnings:\n";
    for (const auto& w : result.warnings) out << "  - " << w << "\n";
  }
  return out.str();
}

}  // namespace moeplan::planner
