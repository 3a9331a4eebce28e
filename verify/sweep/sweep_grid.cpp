#include "verify/sweep/sweep_grid.h"

#include <algorithm>
#include <cmath>

#include "law/flops.h"
#include "law/law_json.h"
#include "util/error.h"
#include "util/units.h"
#include "verify/sweep/run_key.h"

namespace moeplan::verify {
namespace {

double tokens_at(const LadderShape& shape, double budget_flops) {
  return budget_flops / law::six_na_flops_per_token(shape.active_params);
}

void check_budgets(const SweepSetup& setup) {
  if (setup.budgets_flops.empty()) fail("--budgets needs at least one budget");
  for (std::size_t i = 1; i < setup.budgets_flops.size(); ++i) {
    if (!(setup.budgets_flops[i] > setup.budgets_flops[i - 1]))
      fail("--budgets must be strictly increasing, got ", format_sci(setup.budgets_flops[i - 1]),
           " then ", format_sci(setup.budgets_flops[i]));
  }
}

// The targets N*·8^(i/(sizes−1) − 1/2) mapped to shapes, smallest first, without repeats.
std::vector<LadderShape> cell_sizes(const SweepSetup& setup, const law::ScalingLaw& law,
                                    std::int64_t experts, double budget_flops) {
  const std::vector<LadderShape> shapes = feasible_shapes(setup, experts, budget_flops);
  const double centre = prior_optimum(law, shapes, budget_flops).total_params;
  std::vector<LadderShape> chosen;
  for (int i = 0; i < setup.sizes; ++i) {
    const double position =
        setup.sizes > 1 ? static_cast<double>(i) / (setup.sizes - 1) - 0.5 : 0.0;
    const LadderShape& s = nearest_shape(shapes, centre * std::pow(kSizeSpan, position));
    if (chosen.empty() || chosen.back().total_params != s.total_params) chosen.push_back(s);
  }
  return chosen;
}

}  // namespace

const char* run_kind_name(RunKind kind) {
  switch (kind) {
    case RunKind::kGrid:
      return "grid";
    case RunKind::kBracket:
      return "bracket";
    case RunKind::kRepeat:
      return "repeat";
  }
  return "grid";
}

std::vector<double> default_sparsities() {
  std::vector<double> s;
  for (int k = 0; k <= 5; ++k) s.push_back(1.0 - std::ldexp(1.0, -k));
  return s;
}

std::int64_t experts_for_sparsity(double sparsity, std::int64_t top_k) {
  if (!(sparsity >= 0 && sparsity < 1)) fail("--sparsities must be in [0, 1), got ", sparsity);
  const double experts = static_cast<double>(top_k) / (1.0 - sparsity);
  const double whole = std::round(experts);
  if (std::fabs(experts - whole) > 1e-6 * experts)
    fail("sparsity ", sparsity, " with --top-k ", top_k, " needs E = K/(1 - S) = ", experts,
         " experts, not a whole number");
  return static_cast<std::int64_t>(whole);
}

law::ScalingLaw prior_law(const SweepSetup& setup) {
  return law::law_from_json(setup.prior_law, "the sweep's prior law");
}

ShapeFamily shape_family(const SweepSetup& setup, std::int64_t experts) {
  return {experts, setup.top_k, setup.granularity, setup.vocab_size, setup.context};
}

std::vector<LadderShape> feasible_shapes(const SweepSetup& setup, std::int64_t experts,
                                         double budget_flops) {
  const std::vector<LadderShape> ladder = shape_ladder(shape_family(setup, experts));
  if (ladder.empty())
    fail("no model shape has whole experts with --granularity ", setup.granularity);
  const double min_tokens = static_cast<double>(setup.min_steps * setup.context);
  std::vector<LadderShape> feasible;
  for (const LadderShape& s : ladder)
    if (tokens_at(s, budget_flops) >= min_tokens) feasible.push_back(s);
  if (feasible.empty()) {
    const LadderShape& smallest = ladder.front();
    fail("budget ", format_sci(budget_flops), " FLOPs is too small: the smallest model (",
         law::describe(smallest.arch), ", N_a = ", format_count(smallest.active_params),
         ") needs at least ",
         format_sci(law::six_na_flops_per_token(smallest.active_params) * min_tokens),
         " FLOPs for ", setup.min_steps, " steps of one ", setup.context, "-token sequence");
  }
  return feasible;
}

LadderShape prior_optimum(const law::ScalingLaw& law, const std::vector<LadderShape>& shapes,
                          double budget_flops) {
  if (shapes.empty()) fail("no feasible model shape at ", format_sci(budget_flops), " FLOPs");
  const auto loss = [&](const LadderShape& s) {
    return law::predict_loss(law, s.total_params, tokens_at(s, budget_flops), s.arch.sparsity());
  };
  return *std::min_element(
      shapes.begin(), shapes.end(),
      [&](const LadderShape& a, const LadderShape& b) { return loss(a) < loss(b); });
}

SweepRun make_run(const SweepSetup& setup, double budget_flops, const law::MoeArchitecture& arch,
                  int replicate, RunKind kind) {
  SweepRun run{budget_flops, arch, replicate, kind, ""};
  run.arch.vocab_size = setup.vocab_size;
  run.arch.context = setup.context;
  run.key = run_key(setup, budget_flops, run.arch, replicate);
  return run;
}

std::vector<SweepRun> design_grid(const SweepSetup& setup) {
  check_budgets(setup);
  if (setup.sizes < 1) fail("--sizes must be at least 1");
  const law::ScalingLaw law = prior_law(setup);
  const std::size_t median = (setup.budgets_flops.size() - 1) / 2;
  std::vector<SweepRun> grid, repeats;
  for (const std::int64_t experts : setup.experts) {
    for (std::size_t b = 0; b < setup.budgets_flops.size(); ++b) {
      const double budget = setup.budgets_flops[b];
      const std::vector<LadderShape> sizes = cell_sizes(setup, law, experts, budget);
      for (const LadderShape& s : sizes)
        grid.push_back(make_run(setup, budget, s.arch, 0, RunKind::kGrid));
      if (b != median) continue;
      const LadderShape& central = sizes[sizes.size() / 2];
      for (int r = 1; r <= setup.repeat_seeds; ++r)
        repeats.push_back(make_run(setup, budget, central.arch, r, RunKind::kRepeat));
    }
  }
  grid.insert(grid.end(), repeats.begin(), repeats.end());
  return grid;
}

}  // namespace moeplan::verify
