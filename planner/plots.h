#pragma once
// The report's three plots, rendered with gnuplot (pngcairo) beside the Markdown file:
// plan.md -> plan-sparsity-slice.png, plan-params-slice.png, plan-optimal-sparsity.png.
// Each is rendered into a temporary file and renamed only when all three succeeded, so a
// failure leaves nothing half-written; a missing gnuplot is reported, not fatal.
#include <string>
#include <vector>

#include "planner/plan.h"
#include "planner/slices.h"

namespace moeplan::planner {

struct RenderedPlot {
  std::string title;
  std::string path;  // as written
  std::string link;  // relative to the Markdown file (its file name)
};

struct PlotOutcome {
  std::vector<RenderedPlot> plots;  // empty when not rendered
  std::string note;                 // why not, when empty
};

// The three image paths for a Markdown file path.
std::vector<RenderedPlot> plot_targets(const std::string& markdown_path);

// Full path of `program` on $PATH, or "" when absent.
std::string find_on_path(const std::string& program);

// The gnuplot commands of the three plots (data, styles, the plan, the cap), without the
// terminal and output lines. The legend sits below the plot, clear of the curves.
std::vector<std::string> plot_scripts(const PlanResult& plan, const PlanSlices& slices);

// `s` inside a single-quoted gnuplot string (quotes doubled).
std::string gnuplot_text(const std::string& s);

// Renders gnuplot script bodies (without terminal and output lines) into targets[i].path as
// PNGs, all or nothing; a missing or failing gnuplot is reported in the note, not thrown.
PlotOutcome render_gnuplot(const std::vector<RenderedPlot>& targets,
                           const std::vector<std::string>& bodies);

PlotOutcome render_plots(const PlanResult& plan, const PlanSlices& slices,
                         const std::string& markdown_path);

}  // namespace moeplan::planner
