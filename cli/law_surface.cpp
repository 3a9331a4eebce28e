// `moeplan law surface RUNS.csv`: per-budget isoFLOP surfaces (Eq. 8, App. B) and their optima.
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "planner/runs_csv.h"
#include "planner/surface_report.h"
#include "util/error.h"
#include "util/text.h"

namespace moeplan::cli {

int run_law_surface(const std::vector<std::string>& args) {
  CommandSpec spec;
  spec.usage = "moeplan law surface RUNS.csv [-o SURFACES.json] [options]";
  spec.description =
      "Fits an isoFLOP surface per budget (Eq. 8, App. B): a polynomial in ln N, -ln(1-S) and "
      "their product, degrees chosen from {0..MAX}^3 by k-fold cross-validation, least squares "
      "by QR. Reports what each surface implies: S*(N), N*(S) and N_a*(S) (Figs. 2-4, 9). Runs "
      "are grouped by the budget column, or by 6*N_a*D rounded to 2 significant digits. With -o, "
      "writes the JSON there and PNG plots beside it (STEM-sstar.png, STEM-nstar.png, "
      "STEM-nastar.png). The CSV is that of `law fit` (see its --help; rows whose status is not ok "
      "are left out and counted); sparsity is required.";
  std::string output, format;
  int max_degree = 4, folds = 5;
  bool no_plots = false;
  spec.options.add_options()
      ("runs", po::value<std::string>()->required(), "CSV of runs (positional)")
      ("output,o", po::value(&output), "write the JSON here, plots beside it")
      ("format", po::value(&format)->default_value("table"), "stdout: table or json")
      ("max-degree", po::value(&max_degree)->default_value(4), "highest polynomial degree per term (paper: 4)")
      ("folds", po::value(&folds)->default_value(5), "cross-validation folds (k = min(folds, runs))")
      ("no-plots", po::bool_switch(&no_plots), "with -o, do not draw plots");
  spec.positional.add("runs", 1);
  const auto vm = parse_command(spec, args);
  if (!vm) return 0;
  if (format != "table" && format != "json") throw Error(unknown_name_message("--format", format, {"table", "json"}));
  if (max_degree < 0 || max_degree > 8) fail("--max-degree must be in 0..8, got ", max_degree);
  if (folds < 2) fail("--folds must be at least 2, got ", folds);
  check_output(output);
  const std::string runs_path = (*vm)["runs"].as<std::string>();
  const auto table = planner::read_runs_table(runs_path);
  const auto analysis = planner::analyse_surfaces(table.runs, max_degree, folds);
  if (analysis.budgets.empty()) fail(runs_path, ": no budget has 2 or more runs");
  auto json = planner::surface_json(analysis, runs_path);
  json["runs"] = table.runs.size();
  json["left_out"] = planner::left_out_json(table);
  // Each warning once: in the table (surface_table lists them) or, with JSON, on stderr.
  if (format == "json") {
    for (const auto& w : analysis.warnings) std::cerr << "moeplan: warning: " << w << "\n";
    std::cout << json.dump(2) << "\n";
  } else {
    const std::string left_out = planner::left_out_line(table);
    std::cout << "law surface: " << table.runs.size() << " runs of " << runs_path << "\n"
              << (left_out.empty() ? "" : left_out + " (their status is not ok)\n") << "\n"
              << planner::surface_table(analysis);
  }
  std::cout.flush();
  if (!output.empty() && output != "-") {
    emit_output(output, json.dump(2) + "\n");
    if (!no_plots)
      for (const auto& file : planner::write_surface_plots(analysis, output)) std::cerr << "wrote " << file << "\n";
  }
  return 0;
}

}  // namespace moeplan::cli
