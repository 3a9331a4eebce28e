#include "verify/sweep/grid_report.h"

#include <iomanip>
#include <map>
#include <sstream>

#include "planner/recipe.h"
#include "planner/report.h"
#include "util/units.h"
#include "verify/sweep/sweep_progress.h"
#include "verify/sweep/sweep_worker.h"

namespace moeplan::verify {
namespace {

struct Line {
  const SweepRun* run;
  TrainConfig config;
  law::ParamCounts counts;
  bool floored;        // the step floor shrank the DeepSeek batch
  std::string status;  // the ledger's status, "" when not finished
};

// "d64 L2 H2 E4 K1 G1": the shape (the vocabulary and context are the sweep's).
std::string short_shape(const law::MoeArchitecture& a) {
  std::ostringstream o;
  o << "d" << a.d_model << " L" << a.n_layers << " H" << a.n_heads << " E" << a.experts << " K"
    << a.active_experts << " G" << a.granularity;
  return o.str();
}

std::vector<Line> lines_of(const GridReport& r) {
  std::map<std::string, std::string> status;
  for (const LedgerRow& row : r.ledger)
    if (is_final(row)) status[row.key] = run_status_name(row.status);
  std::vector<Line> lines;
  for (const SweepRun& run : r.runs) {
    TrainConfig c = run_train_config(r.setup, run.arch, run.budget_flops, r.setup.seed, "");
    const double tokens = static_cast<double>(c.tokens);
    const planner::Recipe recipe =
        planner::make_recipe(run.budget_flops, tokens, r.setup.context, r.setup.min_steps);
    lines.push_back({&run, c, law::count_params(c.arch), recipe.deepseek.floored,
                     status.count(run.key) ? status[run.key] : ""});
  }
  return lines;
}

}  // namespace

std::string grid_table(const GridReport& r) {
  const std::vector<Line> lines = lines_of(r);
  std::ostringstream o;
  o << std::left << std::setw(4) << "#" << std::setw(8) << "kind" << std::setw(10) << "C"
    << std::setw(7) << "S" << std::setw(24) << "architecture" << std::right << std::setw(9) << "N"
    << std::setw(9) << "N_a" << std::setw(9) << "tokens" << std::setw(7) << "steps" << std::setw(7)
    << "batch" << std::setw(10) << "LR" << std::setw(9) << "time"
    << "  status\n";
  double flops = 0, seconds = 0;
  int floored = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Line& l = lines[i];
    const double s = estimated_seconds(*l.run, r.throughput);
    flops += l.run->budget_flops;
    seconds += l.status.empty() ? s : 0;
    floored += l.floored ? 1 : 0;
    o << std::left << std::setw(4) << i << std::setw(8) << run_kind_name(l.run->kind)
      << std::setw(10) << format_sci(l.run->budget_flops, 2) << std::setw(7) << std::setprecision(4)
      << l.config.arch.sparsity() << std::setw(24) << short_shape(l.config.arch) << std::right
      << std::setw(9) << format_count(static_cast<double>(l.counts.total)) << std::setw(9)
      << format_count(static_cast<double>(l.counts.active)) << std::setw(9)
      << format_count(static_cast<double>(l.config.tokens)) << std::setw(7)
      << l.config.total_steps() << std::setw(6) << l.config.batch_sequences
      << (l.floored ? "*" : " ") << std::setw(10) << std::setprecision(3) << l.config.peak_lr
      << std::setw(9) << (r.throughput.flops_per_s > 0 ? format_duration(s) : "?") << "  "
      << (l.status.empty() ? "-" : l.status) << "\n";
  }
  o << "\n" << lines.size() << " runs, " << format_sci(flops) << " FLOPs in all";
  if (r.throughput.flops_per_s > 0)
    o << "; still to train: about " << format_duration(seconds) << " of device time at "
      << format_sci(r.throughput.flops_per_s) << " FLOP/s (from " << r.throughput.source << ")";
  o << "\n";
  if (floored > 0)
    o << "* " << floored << " runs' DeepSeek batch was shrunk to keep at least "
      << r.setup.min_steps << " steps\n";
  return o.str();
}

nlohmann::json grid_json(const GridReport& r) {
  nlohmann::json runs = nlohmann::json::array();
  double flops = 0;
  for (const Line& l : lines_of(r)) {
    flops += l.run->budget_flops;
    runs.push_back(
        {{"key", l.run->key},
         {"kind", run_kind_name(l.run->kind)},
         {"replicate", l.run->replicate},
         {"budget_flops", l.run->budget_flops},
         {"sparsity", l.config.arch.sparsity()},
         {"architecture", planner::architecture_to_json(l.config.arch)},
         {"params", l.counts.total},
         {"active_params", l.counts.active},
         {"tokens", l.config.tokens},
         {"steps", l.config.total_steps()},
         {"batch_sequences", l.config.batch_sequences},
         {"batch_floored", l.floored},
         {"peak_lr", l.config.peak_lr},
         {"estimated_seconds", estimated_seconds(*l.run, r.throughput)},
         {"status", l.status.empty() ? nlohmann::json(nullptr) : nlohmann::json(l.status)}});
  }
  return {{"runs", runs},
          {"total_flops", flops},
          {"throughput_flops_per_s", r.throughput.flops_per_s},
          {"throughput_source", r.throughput.source}};
}

}  // namespace moeplan::verify
