#include "planner/plots.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

#include "util/error.h"
#include "util/files.h"
#include "util/units.h"

namespace moeplan::planner {
namespace fs = std::filesystem;
namespace {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string data_block(const std::string& name, const std::vector<SlicePoint>& points) {
  std::ostringstream s;
  s.precision(10);
  s << "$" << name << " << EOD\n";
  for (const auto& p : points) s << p.x << " " << p.y << "\n";
  s << "EOD\n";
  return s.str();
}

// A dashed vertical line at x with a label, for the memory cap.
std::string vertical_marker(double x, const std::string& label) {
  std::ostringstream s;
  s.precision(10);
  s << "set arrow from " << x << ", graph 0 to " << x
    << ", graph 1 nohead dashtype 2 linewidth 2 linecolor rgb 'red'\n"
    << "set label '" << gnuplot_text(label) << "' at " << x
    << ", graph 0.95 right offset -0.5, 0 textcolor rgb 'red'\n";
  return s.str();
}

}  // namespace

std::vector<std::string> plot_scripts(const PlanResult& plan, const PlanSlices& sl) {
  const double n = sl.at_params, s = sl.at_sparsity, loss = plan.chosen.loss;
  const std::string budget = format_sci(plan.request.budget.flops);
  std::vector<std::string> out(3);
  const std::string key = "set key below\n";
  std::ostringstream a;
  a.precision(10);
  a << "set title '"
    << gnuplot_text("isoFLOP slice over sparsity at N = " + format_count(n) + ", C = " + budget)
    << "'\nset xlabel 'sparsity S'\nset ylabel 'predicted loss'\nset grid\n"
    << key << data_block("curve", sl.loss_over_sparsity) << data_block("chosen", {{s, loss}})
    << "plot $curve using 1:2 with lines lw 2 title 'L(S; N, C)', "
       "$chosen using 1:2 with points pt 7 ps 1.5 title 'plan'\n";
  out[0] = a.str();
  std::ostringstream b;
  b.precision(10);
  b << "set title '"
    << gnuplot_text("isoFLOP slice over total parameters at S = " + std::to_string(s).substr(0, 6) +
                    ", C = " + budget)
    << "'\nset xlabel 'total parameters N'\nset ylabel 'predicted loss'\nset logscale x\n"
       "set format x '10^{%L}'\nset grid\n"
    << key
    << (sl.params_cap
            ? vertical_marker(*sl.params_cap, "memory cap N = " + format_count(*sl.params_cap))
            : std::string())
    << data_block("curve", sl.loss_over_params) << data_block("chosen", {{n, loss}})
    << "plot $curve using 1:2 with lines lw 2 title 'L(N; S, C)', "
       "$chosen using 1:2 with points pt 7 ps 1.5 title 'plan'\n";
  out[1] = b.str();
  std::ostringstream c;
  c.precision(10);
  c << "set title '" << gnuplot_text("optimal sparsity S*(N) at C = " + budget + " (Fig. 4)")
    << "'\nset xlabel 'total parameters N'\nset ylabel 'optimal sparsity S*'\nset logscale x\n"
       "set format x '10^{%L}'\nset yrange [0:1]\nset grid\n"
    << key << data_block("curve", sl.optimal_sparsity) << data_block("chosen", {{n, s}})
    << "plot $curve using 1:2 with lines lw 2 title 'S*(N; C)', "
       "$chosen using 1:2 with points pt 7 ps 1.5 title 'plan'\n";
  out[2] = c.str();
  return out;
}

namespace {

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

}  // namespace

std::vector<RenderedPlot> plot_targets(const std::string& markdown_path) {
  fs::path md(markdown_path);
  const fs::path dir = md.parent_path();
  const std::string stem = md.stem().string();
  std::vector<RenderedPlot> t = {
      {"Loss over sparsity at the chosen N", "", stem + "-sparsity-slice.png"},
      {"Loss over total parameters at the chosen S", "", stem + "-params-slice.png"},
      {"Optimal sparsity against total parameters", "", stem + "-optimal-sparsity.png"},
  };
  for (auto& p : t) p.path = (dir / p.link).string();
  return t;
}

std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return "";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

std::string gnuplot_text(const std::string& s) {
  std::string q;
  for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q;
}

PlotOutcome render_gnuplot(const std::vector<RenderedPlot>& targets,
                           const std::vector<std::string>& bodies) {
  PlotOutcome outcome;
  const std::string gnuplot = find_on_path("gnuplot");
  if (gnuplot.empty()) {
    outcome.note = "plots not rendered: gnuplot is not installed (apt-get install gnuplot-nox)";
    return outcome;
  }
  std::random_device rd;
  const std::string tag = ".tmp" + std::to_string(rd());
  std::vector<fs::path> temps;
  const fs::path script_path = fs::temp_directory_path() / ("moeplan-plot" + tag + ".gp");
  const fs::path log_path = fs::temp_directory_path() / ("moeplan-plot" + tag + ".log");
  bool ok = true;
  std::string failure = "gnuplot failed";
  for (std::size_t i = 0; i < targets.size() && ok; ++i) {
    const fs::path temp = targets[i].path + tag;
    temps.push_back(temp);
    try {
      write_file_atomic(script_path, "set terminal pngcairo size 900,560 enhanced font 'sans,11'\n"
                                     "set output '" + gnuplot_text(temp.string()) + "'\n" +
                                         bodies[i] + "set output\n");
    } catch (const Error& e) {  // a full temporary directory: say so rather than "gnuplot failed"
      failure = e.what();
      ok = false;
      break;
    }
    const std::string command = shell_quote(gnuplot) + " " + shell_quote(script_path.string()) +
                                " >" + shell_quote(log_path.string()) + " 2>&1";
    std::error_code ec;
    ok = ok && std::system(command.c_str()) == 0 && fs::exists(temp, ec) &&
         fs::file_size(temp, ec) > 0;
  }
  remove_quietly(script_path);
  remove_quietly(log_path);
  if (ok) {
    for (std::size_t i = 0; i < targets.size() && ok; ++i) {
      std::error_code ec;
      fs::rename(temps[i], targets[i].path, ec);
      ok = !ec;
    }
  }
  for (const auto& t : temps) remove_quietly(t);
  if (!ok) {
    outcome.note = "plots not rendered: " + failure;
    return outcome;
  }
  outcome.plots = targets;
  return outcome;
}

PlotOutcome render_plots(const PlanResult& plan, const PlanSlices& slices,
                         const std::string& markdown_path) {
  return render_gnuplot(plot_targets(markdown_path), plot_scripts(plan, slices));
}

}  // namespace moeplan::planner
