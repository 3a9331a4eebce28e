#pragma once
// `law surface`: per-budget isoFLOP surfaces and what they imply (S*(N), N*(S), N_a*(S)), as a
// table, JSON, and gnuplot PNG plots.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "law/isoflop_surface.h"

namespace moeplan::planner {

struct BudgetSurface {
  law::IsoflopSurface surface;
  std::vector<law::SliceOptimum> sparsity_at_params;  // S*(N), N on 9 log-spaced points
  std::vector<law::SliceOptimum> params_at_sparsity;  // N*(S), N_a*(S) at the runs' sparsities
};

struct SurfaceAnalysis {
  std::vector<BudgetSurface> budgets;
  std::vector<std::string> warnings;
};

SurfaceAnalysis analyse_surfaces(const std::vector<law::FitRun>& runs, int max_degree, int folds);
nlohmann::json surface_json(const SurfaceAnalysis& analysis, const std::string& runs_path);
std::string surface_table(const SurfaceAnalysis& analysis);
enum class SurfacePlot { kOptimalSparsity, kOptimalParams, kOptimalActiveParams };
// The data blocks and the plot command of one surface plot: a line per budget, and the optima
// at the edge of the swept range marked apart (open red circles), since the sweep does not
// bracket them. Empty when there is no budget.
std::string surface_plot_commands(const SurfaceAnalysis& analysis, SurfacePlot which);

// Writes <stem>-sstar.png (S* vs N) and <stem>-nstar.png (N* and N_a* vs S) beside
// `output_path` with gnuplot (temp file + rename); returns the files written. Throws Error when
// gnuplot fails.
std::vector<std::string> write_surface_plots(const SurfaceAnalysis& analysis, const std::string& output_path);

}  // namespace moeplan::planner
