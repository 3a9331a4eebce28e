#include "verify/check/verify_report.h"

#include <sstream>

#include "law/architecture.h"
#include "util/format.h"

namespace moeplan::verify {
namespace {

using nlohmann::json;

std::string loss(double x) {
  return format_number("%.4f", x);
}
std::string percent(double fraction) {
  return format_number("%.2f", 100 * fraction) + " %";
}

void write_interval_parts(std::ostream& out, const IntervalParts& p) {
  out << "  bootstrap (law's refits, 90 %): [" << loss(p.bootstrap.lo) << ", "
      << loss(p.bootstrap.hi) << "]\n";
  if (p.backtest)
    out << "  backtest: refit up to " << format_number("%.3g", p.backtest->fit_max_budget_flops)
        << " FLOPs missed " << p.backtest->held_out_runs << " runs at "
        << format_number("%.3g", p.backtest->held_out_budget_flops) << " FLOPs by "
        << percent(p.backtest->relative_error)
        << " (mean); scaled to this budget: " << percent(p.backtest->scaled_relative_error)
        << " = ±" << loss(p.backtest->scaled_relative_error * p.predicted_loss) << "\n";
  else
    out << "  backtest: none (" << p.backtest_missing << ")\n";
  if (p.noise)
    out << "  run-to-run noise: std " << loss(p.noise->std_loss) << " over " << p.noise->groups
        << " configuration(s), " << p.noise->replicates << " runs; ±"
        << loss(interval_z() * p.noise->std_loss) << "\n";
  else
    out << "  run-to-run noise: none (" << p.noise_missing << ")\n";
}

json claims_json(const std::vector<ClaimCheck>& claims) {
  json a = json::array();
  for (const auto& c : claims)
    a.push_back(
        {{"claim", c.claim}, {"status", claim_status_name(c.status)}, {"evidence", c.evidence}});
  return a;
}

json neighbors_json(const std::vector<MeasuredModel>& models) {
  json a = json::array();
  for (const auto& m : models)
    a.push_back({{"architecture", law::describe(m.architecture)},
                 {"experts", m.architecture.experts},
                 {"sparsity", m.sparsity},
                 {"planned", m.planned},
                 {"predicted_loss", m.predicted_loss},
                 {"measured_loss", m.measured_loss ? json(*m.measured_loss) : json(nullptr)}});
  return a;
}

void write_neighbors(std::ostream& out, const std::vector<MeasuredModel>& models) {
  out << "neighbours (same budget, same K, half and twice the experts):\n";
  for (const auto& m : models)
    out << "  " << (m.planned ? "planned  " : "neighbour") << " E " << m.architecture.experts
        << ", S " << format_number("%.4f", m.sparsity) << ": predicted " << loss(m.predicted_loss)
        << ", measured " << (m.measured_loss ? loss(*m.measured_loss) : std::string("-")) << "\n";
  out << "  " << neighbors_line(models) << "\n";
}

}  // namespace

json verify_report_json(const VerifyReport& r) {
  json j;
  j["prediction"] = prediction_to_json(r.prediction);
  j["prediction_file"] = r.prediction_path;
  j["prediction_reused"] = r.prediction_reused;
  if (r.verdict) {
    const Verdict& v = *r.verdict;
    j["measured_loss"] = v.measured_loss;
    j["measured_source"] = r.measured_source;
    j["relative_error"] = v.relative_error;
    j["tolerance"] = v.tolerance;
    j["within_tolerance"] = v.within_tolerance;
    j["inside_interval"] = v.inside_interval;
    j["verdict"] = v.passed() ? "PASS" : "FAIL";
    j["verdict_line"] = verdict_line(v);
    j["exit_code"] = v.exit_code();
  }
  j["claims"] = claims_json(r.claims);
  if (!r.neighbors.empty()) {
    j["neighbors"] = neighbors_json(r.neighbors);
    const auto best = planned_sparsity_is_best(r.neighbors);
    j["planned_sparsity_lowest_loss"] = best ? json(*best) : json(nullptr);
  }
  return j;
}

std::string verify_report_table(const VerifyReport& r) {
  std::ostringstream out;
  const Prediction& p = r.prediction;
  out << "verify at " << format_number("%.3g", p.inputs.budget_flops)
      << " FLOPs: " << law::describe(p.architecture) << "\n";
  out << "  N " << format_number("%.4g", p.total_params) << ", N_active "
      << format_number("%.4g", p.active_params) << ", S " << format_number("%.4f", p.sparsity)
      << ", D " << format_number("%.4g", p.tokens) << " tokens\n";
  out << "prediction" << (r.prediction_reused ? " (recorded earlier)" : "")
      << (r.prediction_path.empty() ? "" : " in " + r.prediction_path) << ": loss "
      << loss(p.predicted_loss) << ", 90 % interval [" << loss(p.interval.lo) << ", "
      << loss(p.interval.hi) << "]\n";
  write_interval_parts(out, p.parts);
  if (r.verdict) {
    const Verdict& v = *r.verdict;
    out << "measured: " << loss(v.measured_loss) << " (" << r.measured_source << "), "
        << format_number("%+.2f", 100 * v.relative_error) << " % from predicted (tolerance "
        << percent(v.tolerance) << "), " << (v.inside_interval ? "inside" : "outside")
        << " the interval\n";
    out << "verdict: " << verdict_line(v) << "\n";
  } else {
    out << "measured: nothing yet\n";
  }
  if (!r.neighbors.empty()) write_neighbors(out, r.neighbors);
  if (!r.claims.empty()) out << "paper's claims on the sweep's runs:\n";
  for (const auto& c : r.claims) {
    out << "  " << c.claim << ": " << claim_status_name(c.status) << "\n";
    for (const auto& e : c.evidence) out << "    " << e << "\n";
  }
  return out.str();
}

std::string verify_report_markdown(const VerifyReport& r, const planner::PlotOutcome& plots) {
  std::ostringstream out;
  out << "# moeplan verify at " << format_number("%.3g", r.prediction.inputs.budget_flops)
      << " FLOPs\n\n";
  out << "**" << (r.verdict ? verdict_line(*r.verdict) : std::string("not measured")) << "**\n\n";
  out << "```\n" << verify_report_table(r) << "```\n\n";
  if (plots.plots.empty()) out << "_" << plots.note << "_\n";
  for (const auto& plot : plots.plots)
    out << "## " << plot.title << "\n\n![" << plot.title << "](" << plot.link << ")\n\n";
  return out.str();
}

}  // namespace moeplan::verify
