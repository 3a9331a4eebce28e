#include "planner/surface_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "util/error.h"
#include "util/units.h"

namespace moeplan::planner {
namespace {

std::string fmt(const char* format, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

std::string pad(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

nlohmann::json optimum_json(const law::SliceOptimum& o, const char* at, const char* optimum) {
  nlohmann::json j = {{at, o.at}, {optimum, o.optimum}, {"loss", o.loss}, {"at_edge", o.at_edge}};
  if (o.active_params) j["active_params"] = *o.active_params;
  return j;
}

}  // namespace

SurfaceAnalysis analyse_surfaces(const std::vector<law::FitRun>& runs, int max_degree, int folds) {
  SurfaceAnalysis analysis;
  for (const auto& [budget, group] : law::group_by_budget(runs)) {
    if (group.size() < 2) {
      analysis.warnings.push_back("budget " + format_sci(budget) + " has only 1 run: skipped");
      continue;
    }
    BudgetSurface b;
    b.surface = law::fit_isoflop_surface(group, max_degree, folds);
    b.surface.budget_flops = budget;
    std::vector<double> params;
    const auto& n = b.surface.total_params;
    for (int i = 0; i < 9; ++i) params.push_back(n.lo * std::pow(n.hi / n.lo, i / 8.0));
    b.sparsity_at_params = law::optimal_sparsity(b.surface, params);
    std::vector<double> sparsities;
    for (const auto& r : group) sparsities.push_back(r.sparsity);
    std::sort(sparsities.begin(), sparsities.end());
    sparsities.erase(std::unique(sparsities.begin(), sparsities.end()), sparsities.end());
    b.params_at_sparsity = law::optimal_params(b.surface, group, sparsities);
    int edges = 0;
    for (const auto& o : b.params_at_sparsity) edges += o.at_edge;
    if (edges > 0)
      analysis.warnings.push_back("budget " + format_sci(budget) + ": N*(S) is at the edge of the sizes run for " +
                                  std::to_string(edges) + " of " + std::to_string(b.params_at_sparsity.size()) +
                                  " sparsities: the sweep does not bracket the optimum there");
    analysis.budgets.push_back(std::move(b));
  }
  return analysis;
}

nlohmann::json surface_json(const SurfaceAnalysis& analysis, const std::string& runs_path) {
  nlohmann::json j;
  j["schema_version"] = 1;
  j["runs_file"] = runs_path;
  j["model"] = "Eq. 8: L = sum a_i Nh^i + sum b_i Sh^i + sum c_i (Nh*Sh)^i + d, Nh = ln N, Sh = -ln(1-S)";
  j["budgets"] = nlohmann::json::array();
  for (const auto& b : analysis.budgets) {
    const auto& s = b.surface;
    nlohmann::json e;
    e["budget_flops"] = s.budget_flops;
    e["runs"] = s.runs;
    e["degrees"] = {s.degrees.params, s.degrees.sparsity, s.degrees.interaction};
    e["coefficients"] = s.coefficients;
    e["cv_folds"] = s.folds;
    e["cv_mse"] = s.cv_mse;
    e["train_mse"] = s.train_mse;
    e["total_params_range"] = {s.total_params.lo, s.total_params.hi};
    e["sparsity_range"] = {s.sparsity.lo, s.sparsity.hi};
    e["optimal_sparsity"] = nlohmann::json::array();
    for (const auto& o : b.sparsity_at_params) e["optimal_sparsity"].push_back(optimum_json(o, "total_params", "sparsity"));
    e["optimal_params"] = nlohmann::json::array();
    for (const auto& o : b.params_at_sparsity) e["optimal_params"].push_back(optimum_json(o, "sparsity", "total_params"));
    j["budgets"].push_back(e);
  }
  j["warnings"] = analysis.warnings;
  return j;
}

std::string surface_table(const SurfaceAnalysis& analysis) {
  std::ostringstream out;
  for (const auto& b : analysis.budgets) {
    const auto& s = b.surface;
    out << "budget " << format_sci(s.budget_flops) << ": " << s.runs << " runs, degrees (" << s.degrees.params
        << "," << s.degrees.sparsity << "," << s.degrees.interaction << ") by " << s.folds
        << "-fold CV, CV MSE " << fmt("%.3e", s.cv_mse) << ", fit MSE " << fmt("%.3e", s.train_mse) << "\n";
    out << "  S*(N):        N      S*   loss\n";
    for (const auto& o : b.sparsity_at_params)
      out << "    " << pad(format_count(o.at), 10) << "  " << fmt("%6.4f", o.optimum) << "  "
          << fmt("%.4f", o.loss) << (o.at_edge ? "  (edge)" : "") << "\n";
    out << "  N*(S):      S          N*        N_a*   loss\n";
    for (const auto& o : b.params_at_sparsity)
      out << "    " << fmt("%8.5f", o.at) << "  " << pad(format_count(o.optimum), 10) << "  "
          << pad(o.active_params ? format_count(*o.active_params) : "n/a", 10) << "  "
          << fmt("%.4f", o.loss) << (o.at_edge ? "  (edge)" : "") << "\n";
    out << "\n";
  }
  if (!analysis.warnings.empty()) {
    out << "warnings:\n";
    for (const auto& w : analysis.warnings) out << "  - " << w << "\n";
  }
  return out.str();
}

std::string surface_plot_commands(const SurfaceAnalysis& analysis, SurfacePlot which) {
  const bool active = which == SurfacePlot::kOptimalActiveParams;
  const auto slice = which == SurfacePlot::kOptimalSparsity ? &BudgetSurface::sparsity_at_params
                                                            : &BudgetSurface::params_at_sparsity;
  std::ostringstream data, commands, edges;
  int index = 0;
  for (const auto& b : analysis.budgets) {
    data << "$d" << index << " << EOD\n";
    for (const auto& o : b.*slice) {
      const double y = active ? o.active_params.value_or(NAN) : o.optimum;
      data << o.at << " " << y << "\n";
      if (o.at_edge) edges << o.at << " " << y << "\n";
    }
    data << "EOD\n";
    commands << (index ? ", " : "plot ") << "$d" << index
             << " using 1:2 with linespoints title 'C = " << format_sci(b.surface.budget_flops, 2)
             << "'";
    ++index;
  }
  if (index == 0) return "";
  if (!edges.str().empty()) {
    data << "$edge << EOD\n" << edges.str() << "EOD\n";
    commands << ", $edge using 1:2 with points pointtype 6 pointsize 2.5 linewidth 2 "
                "linecolor rgb 'red' title 'at the edge of the swept range'";
  }
  return data.str() + commands.str() + "\n";
}

std::vector<std::string> write_surface_plots(const SurfaceAnalysis& analysis, const std::string& output_path) {
  namespace fs = std::filesystem;
  const fs::path out(output_path);
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  const std::string stem = out.stem().string();
  std::vector<std::string> written;
  auto plot = [&](const std::string& suffix, const std::string& title, const std::string& xlabel,
                  const std::string& ylabel, bool logx, bool logy, SurfacePlot which) {
    const fs::path final_path = dir / (stem + suffix);
    const fs::path temp_path = dir / ("." + stem + suffix + ".tmp");
    const std::string body = surface_plot_commands(analysis, which);
    if (body.empty()) return;
    std::ostringstream script;
    script << "set terminal pngcairo size 900,600\nset output '" << temp_path.string() << "'\n";
    script << "set title '" << title << "'\nset xlabel '" << xlabel << "'\nset ylabel '" << ylabel << "'\n";
    if (logx) script << "set logscale x\n";
    if (logy) script << "set logscale y\n";
    script << "set key outside right\nset grid\n";
    const std::string text = script.str() + body;
    FILE* pipe = popen("gnuplot 2>/dev/null", "w");
    if (!pipe) fail("cannot run gnuplot for the plots");
    std::fwrite(text.data(), 1, text.size(), pipe);
    const int status = pclose(pipe);
    std::error_code ec;
    if (status != 0 || !fs::exists(temp_path, ec)) {
      fs::remove(temp_path, ec);
      fail("gnuplot failed writing ", final_path.string(), " (is gnuplot with the pngcairo terminal installed?)");
    }
    fs::rename(temp_path, final_path, ec);
    if (ec) fail("cannot write ", final_path.string(), ": ", ec.message());
    written.push_back(final_path.string());
  };
  plot("-sstar.png", "Optimal sparsity S*(N) at fixed budget (Fig. 4)", "total parameters N", "S*", true, false,
       SurfacePlot::kOptimalSparsity);
  plot("-nstar.png", "Optimal total parameters N*(S) at fixed budget (Fig. 2)", "sparsity S", "N*", false, true,
       SurfacePlot::kOptimalParams);
  bool any_active = false;
  for (const auto& b : analysis.budgets)
    for (const auto& o : b.params_at_sparsity) any_active |= o.active_params.has_value();
  if (any_active)
    plot("-nastar.png", "Optimal active parameters N_a*(S) at fixed budget (Fig. 2)", "sparsity S", "N_a*", false,
         true, SurfacePlot::kOptimalActiveParams);
  return written;
}

}  // namespace moeplan::planner
