#include "verify/sweep/bracketing.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "util/units.h"

namespace moeplan::verify {
namespace {

struct CellRun {
  const SweepRun* run = nullptr;
  double params = 0;
  const LedgerRow* row = nullptr;
};

double spacing(const SweepSetup& setup) {
  return setup.sizes > 1 ? std::pow(kSizeSpan, 1.0 / (setup.sizes - 1)) : 2.0;
}

std::string cell_name(double budget, const law::MoeArchitecture& arch) {
  std::ostringstream s;
  s << "C = " << format_sci(budget) << ", S = " << arch.sparsity() << " (E = " << arch.experts
    << ")";
  return s.str();
}

// Adds one size beyond the cell's `below` (smaller N) or upper edge, or says why not.
void extend(const SweepSetup& setup, const std::vector<CellRun>& cell, const CellRun& best,
            bool below, BracketResult* result) {
  const SweepRun& edge = *best.run;
  const std::string name = cell_name(edge.budget_flops, edge.arch);
  const std::string side = below ? "smallest" : "largest";
  double grid_edge = below ? 1e300 : 0;
  for (const CellRun& c : cell)
    if (c.run->kind == RunKind::kGrid)
      grid_edge = below ? std::min(grid_edge, c.params) : std::max(grid_edge, c.params);
  const auto added_beyond = std::count_if(cell.begin(), cell.end(), [&](const CellRun& c) {
    return c.run->kind == RunKind::kBracket &&
           (below ? c.params < grid_edge : c.params > grid_edge);
  });
  const std::string lead =
      name + ": the best size (N = " + format_count(best.params) + ") is the " + side + " swept; ";
  if (added_beyond >= kMaxBracketPerSide) {
    result->messages.push_back(lead + "not bracketed after " + std::to_string(kMaxBracketPerSide) +
                               " added sizes");
    return;
  }
  std::vector<LadderShape> beyond;
  for (const LadderShape& s : feasible_shapes(setup, edge.arch.experts, edge.budget_flops))
    if (below ? s.total_params < best.params : s.total_params > best.params) beyond.push_back(s);
  if (beyond.empty()) {
    result->messages.push_back(lead + "no " + std::string(below ? "smaller" : "larger") +
                               " shape keeps the step floor, so it stays unbracketed");
    return;
  }
  const double target = below ? best.params / spacing(setup) : best.params * spacing(setup);
  const LadderShape& shape = nearest_shape(beyond, target);
  result->added.push_back(make_run(setup, edge.budget_flops, shape.arch, 0, RunKind::kBracket));
  result->messages.push_back(lead + "adding " + law::describe(shape.arch) +
                             " (N = " + format_count(shape.total_params) + ")");
}

}  // namespace

BracketResult bracket_runs(const SweepSetup& setup, const std::vector<SweepRun>& runs,
                           const std::vector<LedgerRow>& ledger) {
  std::map<std::string, const LedgerRow*> by_key;
  for (const LedgerRow& r : ledger) by_key[r.key] = &r;
  std::map<std::pair<double, std::int64_t>, std::vector<CellRun>> cells;
  for (const SweepRun& run : runs) {
    if (run.replicate != 0) continue;
    const auto found = by_key.find(run.key);
    cells[{run.budget_flops, run.arch.experts}].push_back(
        {&run, static_cast<double>(law::count_params(run.arch).total),
         found == by_key.end() ? nullptr : found->second});
  }
  BracketResult result;
  for (const auto& [where, cell] : cells) {
    const bool complete = std::all_of(cell.begin(), cell.end(), [](const CellRun& c) {
      return c.row && c.row->status != RunStatus::kFailed;
    });
    if (!complete) continue;
    const CellRun* best = nullptr;
    for (const CellRun& c : cell)
      if (c.row->val_loss && (!best || *c.row->val_loss < *best->row->val_loss)) best = &c;
    if (!best || cell.size() < 2) continue;
    const auto [lo, hi] =
        std::minmax_element(cell.begin(), cell.end(),
                            [](const CellRun& a, const CellRun& b) { return a.params < b.params; });
    if (best->params == lo->params) extend(setup, cell, *best, true, &result);
    if (best->params == hi->params) extend(setup, cell, *best, false, &result);
  }
  return result;
}

}  // namespace moeplan::verify
