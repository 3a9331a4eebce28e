#include "verify/check/claims.h"

#include <cmath>
#include <map>

#include "law/isoflop_surface.h"
#include "util/error.h"
#include "util/format.h"
#include "verify/check/ledger_runs.h"

namespace moeplan::verify {
namespace {

constexpr int kSurfaceGridPoints = 5;        // N values per budget at which S*(N) is read
constexpr double kSparsityTolerance = 0.01;  // S* "decreasing" only beyond this

// Per-budget verdicts combined: any "does not hold" wins, then any "holds".
ClaimStatus combine(const std::vector<ClaimStatus>& per_budget) {
  ClaimStatus status = ClaimStatus::kNotEnoughData;
  for (const auto s : per_budget) {
    if (s == ClaimStatus::kDoesNotHold) return s;
    if (s == ClaimStatus::kHolds) status = s;
  }
  return status;
}

std::string flops(double c) {
  return "C " + format_number("%.3g", c);
}

// Lowest val_loss per sparsity (rounded to 1e-6) at one budget, in increasing S.
std::map<double, double> best_loss_by_sparsity(const std::vector<law::FitRun>& runs) {
  std::map<double, double> best;
  for (const auto& r : runs) {
    const double s = std::round(r.sparsity * 1e6) / 1e6;
    const auto it = best.find(s);
    if (it == best.end() || r.loss < it->second) best[s] = r.loss;
  }
  return best;
}

ClaimStatus loss_falls_at_budget(double budget, const std::vector<law::FitRun>& runs,
                                 std::vector<std::string>& evidence) {
  const auto best = best_loss_by_sparsity(runs);
  std::string line = flops(budget) + ": best loss by S:";
  bool falls = true;
  double previous = INFINITY;
  for (const auto& [s, l] : best) {
    line += ' ';
    line += format_number("%.3g", s);
    line += "→";
    line += format_number("%.4f", l);
    falls = falls && l <= previous;
    previous = l;
  }
  if (best.size() < 2) {
    evidence.push_back(flops(budget) + ": one sparsity only");
    return ClaimStatus::kNotEnoughData;
  }
  evidence.push_back(line);
  return falls ? ClaimStatus::kHolds : ClaimStatus::kDoesNotHold;
}

ClaimStatus interior_at_budget(double budget, const std::vector<law::FitRun>& runs,
                               std::vector<std::string>& evidence) {
  if (best_loss_by_sparsity(runs).size() < 3) {
    evidence.push_back(flops(budget) + ": fewer than three sparsities (no parabola to fit)");
    return ClaimStatus::kNotEnoughData;
  }
  law::IsoflopSurface surface;
  try {
    surface = law::fit_isoflop_surface(runs);
  } catch (const Error& e) {
    evidence.push_back(flops(budget) + ": no surface (" + e.what() + ")");
    return ClaimStatus::kNotEnoughData;
  }
  std::vector<double> params;
  const double lo = std::log(surface.total_params.lo), hi = std::log(surface.total_params.hi);
  for (int i = 0; i < kSurfaceGridPoints; ++i)
    params.push_back(std::exp(lo + (hi - lo) * i / (kSurfaceGridPoints - 1)));
  const auto optima = law::optimal_sparsity(surface, params);
  std::string line = flops(budget) + ": S*(N):";
  bool rising = true, interior = false;
  for (std::size_t i = 0; i < optima.size(); ++i) {
    line += " N " + format_number("%.3g", optima[i].at) + "→" +
            format_number("%.3f", optima[i].optimum) + (optima[i].at_edge ? " (edge)" : "");
    if (i > 0 && optima[i].optimum < optima[i - 1].optimum - kSparsityTolerance) rising = false;
    interior = interior || !optima[i].at_edge;
  }
  evidence.push_back(line);
  if (!rising) return ClaimStatus::kDoesNotHold;
  return interior ? ClaimStatus::kHolds : ClaimStatus::kNotEnoughData;
}

ClaimCheck check_per_budget(const std::vector<LedgerRow>& rows, std::string claim,
                            ClaimStatus (*at_budget)(double, const std::vector<law::FitRun>&,
                                                     std::vector<std::string>&)) {
  ClaimCheck check{std::move(claim), ClaimStatus::kNotEnoughData, {}};
  const auto runs = fit_runs_from_ledger(rows);
  std::vector<ClaimStatus> statuses;
  for (const double budget : swept_budgets(rows)) {
    std::vector<law::FitRun> at;
    for (const auto& r : runs)
      if (same_budget(r.budget_flops, budget)) at.push_back(r);
    statuses.push_back(at_budget(budget, at, check.evidence));
  }
  check.status = combine(statuses);
  if (statuses.empty()) check.evidence.push_back("no ok runs");
  return check;
}

}  // namespace

const char* claim_status_name(ClaimStatus status) {
  switch (status) {
    case ClaimStatus::kHolds:
      return "holds";
    case ClaimStatus::kDoesNotHold:
      return "does not hold";
    case ClaimStatus::kNotEnoughData:
      return "not enough data";
  }
  return "?";
}

ClaimCheck check_loss_falls_with_sparsity(const std::vector<LedgerRow>& rows) {
  return check_per_budget(rows, "at fixed C the best loss falls as S rises", loss_falls_at_budget);
}

ClaimCheck check_interior_optimal_sparsity(const std::vector<LedgerRow>& rows) {
  return check_per_budget(rows,
                          "at fixed N the optimal sparsity is interior and rises with N "
                          "(isoFLOP surfaces)",
                          interior_at_budget);
}

std::vector<ClaimCheck> check_paper_claims(const std::vector<LedgerRow>& rows) {
  return {check_loss_falls_with_sparsity(rows), check_interior_optimal_sparsity(rows)};
}

}  // namespace moeplan::verify
