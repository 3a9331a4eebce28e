#include "law/fit_law.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "law/fit_grid.h"
#include "law/percentile.h"
#include "law/run_budget.h"
#include "util/error.h"
#include "util/units.h"

namespace moeplan::law {
namespace {

std::string show(double x) {
  std::ostringstream out;
  out.precision(4);
  out << x;
  return out.str();
}

// Free θ coordinates within a hair of a bound, by name (a fixed one sits on its pinned box).
std::vector<std::string> at_bounds(const Theta& theta, LawForm form, const Bounds& bounds,
                                   const FixedCoefficients& fixed) {
  std::vector<std::string> found;
  const auto& names = parameter_names(form);
  for (int k = 0; k < parameter_count(form); ++k) {
    if (is_fixed(fixed, k)) continue;
    const double tolerance = 1e-6 * (bounds.upper[k] - bounds.lower[k]);
    if (theta[k] <= bounds.lower[k] + tolerance)
      found.push_back(std::string(names[k]) + " = " + show(theta[k]) + " (lower bound)");
    else if (theta[k] >= bounds.upper[k] - tolerance)
      found.push_back(std::string(names[k]) + " = " + show(theta[k]) + " (upper bound)");
  }
  return found;
}

std::size_t distinct_count(const std::vector<FitRun>& runs, double FitRun::*field) {
  std::vector<double> values;
  for (const auto& r : runs) values.push_back(r.*field);
  std::sort(values.begin(), values.end());
  return static_cast<std::size_t>(std::unique(values.begin(), values.end()) - values.begin());
}

Range range_of(const std::vector<FitRun>& runs, double (*get)(const FitRun&)) {
  Range r{get(runs.front()), get(runs.front())};
  for (const auto& run : runs) r.lo = std::min(r.lo, get(run)), r.hi = std::max(r.hi, get(run));
  return r;
}

// Domain of the fit set. Budget: the C column when every run has it, else 6·N_a·D when every
// run has N_a, else none.
FittedDomain domain_of(const std::vector<FitRun>& runs, LawForm form) {
  FittedDomain d;
  d.total_params = range_of(runs, [](const FitRun& r) { return r.total_params; });
  d.tokens = range_of(runs, [](const FitRun& r) { return r.tokens; });
  if (form == LawForm::kSparse) d.sparsity = range_of(runs, [](const FitRun& r) { return r.sparsity; });
  const BudgetSource source = budget_source(runs);
  if (source != BudgetSource::kNone) {
    d.budget_flops = Range{run_budget_flops(runs.front(), source),
                           run_budget_flops(runs.front(), source)};
    for (const auto& run : runs) {
      const double c = run_budget_flops(run, source);
      d.budget_flops->lo = std::min(d.budget_flops->lo, c);
      d.budget_flops->hi = std::max(d.budget_flops->hi, c);
    }
  }
  return d;
}

void bootstrap(const std::vector<FitRun>& fit_runs, const FitSettings& settings,
               const MultiStartFit& main_fit, FitResult& result) {
  const LawForm form = settings.form;
  const Bounds bounds = pin_bounds(fit_bounds(form), settings.fixed);
  std::vector<Theta> starts;
  for (const auto& leader : main_fit.leaders) starts.push_back(leader.theta);
  std::mt19937_64 rng(settings.bootstrap_seed);
  std::uniform_int_distribution<std::size_t> pick(0, fit_runs.size() - 1);
  MultiStartOptions quiet = settings.optimiser;  // progress is the main fit's, not the refits'
  quiet.progress = nullptr;
  std::size_t replicates_at_bounds = 0;
  std::size_t failed_replicates = 0;
  for (int s = 0; s < settings.bootstrap_samples; ++s) {
    std::vector<double> weights(fit_runs.size(), 0.0);
    for (std::size_t i = 0; i < fit_runs.size(); ++i) weights[pick(rng)] += 1.0;
    const FitObjective objective(fit_runs, form, weights);
    const MultiStartFit refit = fit_multistart(objective, starts, bounds, quiet);
    if (refit.failed_starts >= refit.starts) {  // no θ at all: a zero θ would be a fake sample
      ++failed_replicates;
      continue;
    }
    if (!at_bounds(refit.best, form, bounds, settings.fixed).empty()) ++replicates_at_bounds;
    Coefficients sample = coefficients_from_theta(refit.best, form);
    set_fixed(sample, settings.fixed);
    result.law.bootstrap.push_back(sample);
  }
  if (failed_replicates > 0)
    result.warnings.push_back(std::to_string(failed_replicates) + " of " +
                              std::to_string(settings.bootstrap_samples) +
                              " bootstrap refits failed at every start and were left out");
  if (result.law.bootstrap.empty()) return;
  add_bootstrap_intervals(settings, result);
  if (replicates_at_bounds * 10 > static_cast<std::size_t>(settings.bootstrap_samples))
    result.warnings.push_back(std::to_string(replicates_at_bounds) + " of " +
                              std::to_string(settings.bootstrap_samples) +
                              " bootstrap refits ended with a coefficient at its bound");
}

}  // namespace

void add_bootstrap_intervals(const FitSettings& settings, FitResult& result) {
  const LawForm form = settings.form;
  const double tail = (1.0 - settings.interval_level) / 2.0;
  const auto best = named_coefficients(result.law.coefficients, form);
  for (std::size_t k = 0; k < best.size(); ++k) {
    std::vector<double> values;
    for (const auto& sample : result.law.bootstrap) values.push_back(named_coefficients(sample, form)[k].second);
    CoefficientInterval ci{best[k].first, best[k].second, percentile(values, tail),
                           percentile(values, 1.0 - tail),
                           is_fixed(settings.fixed, static_cast<int>(k))};
    if (ci.fixed) ci.lo = ci.hi = ci.value;
    result.intervals.push_back(ci);
    if (ci.fixed) continue;
    // Heuristics for "wide": an exponent's interval wider than 0.25, a scale (a, b, c, d) whose
    // interval spans more than a factor 10, e's more than ±10 %.
    const bool exponent = ci.name == "alpha" || ci.name == "beta" || ci.name == "gamma" ||
                          ci.name == "lambda" || ci.name == "delta";
    bool wide = false;
    if (exponent) wide = ci.hi - ci.lo > 0.25;
    else if (ci.name == "e") wide = ci.hi - ci.lo > 0.2 * ci.value;
    else wide = ci.lo <= 0 || ci.hi / ci.lo > 10.0;
    if (wide)
      result.warnings.push_back("bootstrap interval of " + ci.name + " is wide: [" + show(ci.lo) +
                                ", " + show(ci.hi) + "] around " + show(ci.value) +
                                "; the runs determine it poorly");
    if (ci.outside())
      result.warnings.push_back("the estimate of " + ci.name + " (" + show(ci.value) +
                                ") lies outside its bootstrap interval [" + show(ci.lo) + ", " +
                                show(ci.hi) +
                                "]: the refits find optima elsewhere in a flat "
                                "valley; do not trust it");
  }
}

std::string holdout_name(Holdout holdout) {
  switch (holdout) {
    case Holdout::kNone: return "none";
    case Holdout::kMaxSparsity: return "max-sparsity";
    case Holdout::kMaxBudget: return "max-budget";
    case Holdout::kMaxParams: return "max-params";
  }
  return "none";
}

std::vector<std::string> holdout_names() { return {"none", "max-sparsity", "max-budget", "max-params"}; }

std::optional<Holdout> holdout_from_name(const std::string& name) {
  for (Holdout h : {Holdout::kNone, Holdout::kMaxSparsity, Holdout::kMaxBudget, Holdout::kMaxParams})
    if (holdout_name(h) == name) return h;
  return std::nullopt;
}

Holdout default_holdout(LawForm form) {
  return form == LawForm::kSparse ? Holdout::kMaxSparsity : Holdout::kNone;
}

std::vector<std::pair<std::string, double>> named_coefficients(const Coefficients& k, LawForm form) {
  if (form == LawForm::kDense)
    return {{"a", k.a}, {"alpha", k.alpha}, {"b", k.b}, {"beta", k.beta}, {"e", k.e}};
  return {{"a", k.a},          {"alpha", k.alpha}, {"b", k.b},         {"beta", k.beta},
          {"c", k.c},          {"lambda", k.lambda}, {"d", k.d},       {"delta", k.delta},
          {"gamma", k.gamma},  {"e", k.e}};
}

void split_runs(const std::vector<FitRun>& runs, Holdout holdout, std::vector<FitRun>& fit,
                std::vector<FitRun>& held_out) {
  fit.clear();
  held_out.clear();
  double FitRun::*field = nullptr;
  if (holdout == Holdout::kMaxSparsity) field = &FitRun::sparsity;
  if (holdout == Holdout::kMaxBudget) field = &FitRun::budget_flops;
  if (holdout == Holdout::kMaxParams) field = &FitRun::total_params;
  if (!field || runs.empty()) {
    fit = runs;
    return;
  }
  if (holdout == Holdout::kMaxBudget &&
      std::any_of(runs.begin(), runs.end(), [](const FitRun& r) { return r.budget_flops <= 0; }))
    fail("--holdout max-budget needs the budget column (C) on every run");
  double top = runs.front().*field;
  for (const auto& r : runs) top = std::max(top, r.*field);
  for (const auto& r : runs) (r.*field == top ? held_out : fit).push_back(r);
  if (fit.empty())
    fail("--holdout ", holdout_name(holdout), " would hold out every run (they all share ",
         holdout == Holdout::kMaxSparsity ? "one sparsity" : "one value", "); use --holdout none");
}

FitResult fit_law(const std::vector<FitRun>& runs, const FitSettings& settings) {
  const LawForm form = settings.form;
  FitResult result;
  result.interval_level = settings.interval_level;
  result.fixed = settings.fixed;
  split_runs(runs, settings.holdout, result.fit_runs, result.held_out_runs);
  const auto needed = static_cast<std::size_t>(free_parameter_count(form, settings.fixed) + 1);
  if (result.fit_runs.size() < needed)
    fail("too few runs to fit the ", form_name(form), " form: ", result.fit_runs.size(),
         " in the fit set",
         result.held_out_runs.empty() ? ""
                                      : " (after --holdout " + holdout_name(settings.holdout) + ")",
         ", need at least ", needed,
         settings.fixed.empty() ? " (coefficients + 1)" : " (free coefficients + 1)");

  const Bounds bounds = pin_bounds(fit_bounds(form), settings.fixed);
  const std::vector<Theta> starts = settings.starts.empty()
                                        ? all_starts(pin_grid(paper_grid(form), settings.fixed))
                                        : pin_starts(settings.starts, settings.fixed);
  const FitObjective objective(result.fit_runs, form);
  const MultiStartFit best = fit_multistart(objective, starts, bounds, settings.optimiser);
  if (best.failed_starts == starts.size()) fail("the fit failed from every start (non-finite objective)");

  result.theta = best.best;
  result.objective = best.objective;
  result.grid_objective = best.grid_objective;
  result.starts = best.starts;
  result.total_iterations = best.total_iterations;
  result.failed_starts = best.failed_starts;
  result.law.form = form;
  result.law.coefficients = coefficients_from_theta(best.best, form);
  set_fixed(result.law.coefficients, settings.fixed);
  result.law.domain = domain_of(result.fit_runs, form);
  result.fit_metrics = fit_metrics(result.law.coefficients, form, result.fit_runs);
  result.held_out_metrics = fit_metrics(result.law.coefficients, form, result.held_out_runs);

  for (const auto& b : at_bounds(best.best, form, bounds, settings.fixed))
    result.warnings.push_back("coefficient " + b +
                              ": the runs do not pin it down (does the sweep bracket each "
                              "budget's optimum?); treat the law as ill-conditioned");
  const bool sparsity_exponents_fixed = is_fixed(settings.fixed, "lambda") &&
                                        is_fixed(settings.fixed, "delta") &&
                                        is_fixed(settings.fixed, "gamma");
  if (form == LawForm::kSparse && !sparsity_exponents_fixed &&
      distinct_count(result.fit_runs, &FitRun::sparsity) < 3)
    result.warnings.push_back("fewer than 3 distinct sparsities in the fit set: lambda, delta and "
                              "gamma are not determined by the data");
  if (distinct_count(result.fit_runs, &FitRun::total_params) < 3)
    result.warnings.push_back("fewer than 3 distinct model sizes in the fit set: alpha is not determined by the data");
  if (result.law.coefficients.alpha <= 0 || result.law.coefficients.beta <= 0)
    result.warnings.push_back("alpha or beta is 0: the law is degenerate and law files reject it");
  if (best.failed_starts > 0)
    result.warnings.push_back(std::to_string(best.failed_starts) + " starts failed (non-finite objective)");
  if (settings.bootstrap_samples > 0) bootstrap(result.fit_runs, settings, best, result);
  return result;
}

}  // namespace moeplan::law
