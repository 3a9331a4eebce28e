// The sweep's design: the shape ladder, the grid around the prior law's optimum (sizes, spacing,
// deduplication, repeats, keys), the step-floor and budget refusals, bracketing, and the Slurm
// array script.
#include "verify/sweep/sweep_grid.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "law/flops.h"
#include "law/law_json.h"
#include "law/presets.h"
#include "tests/support/expect_error.h"
#include "verify/sweep/bracketing.h"
#include "verify/sweep/run_key.h"
#include "verify/sweep/slurm_script.h"

namespace moeplan::verify {
namespace {

using moeplan::testing::error_of;

SweepSetup byte_setup() {
  SweepSetup s;
  s.data_dir = "/data";
  s.data_fingerprint = "0000000000000001";
  s.vocab_size = 256;
  s.context = 256;
  s.budgets_flops = {1e13, 3e13, 1e14};
  s.experts = {1, 4, 16};
  s.prior_law = law::law_to_json(law::preset_law(kDefaultPriorLaw));
  return s;
}

double total(const law::MoeArchitecture& a) {
  return static_cast<double>(law::count_params(a).total);
}

TEST(SweepShapes, LadderFollowsTheShapeRule) {
  const auto ladder = shape_ladder({16, 1, 1, 256, 256});
  ASSERT_GT(ladder.size(), 20u);
  bool has_micro = false;
  for (std::size_t i = 0; i < ladder.size(); ++i) {
    const law::MoeArchitecture& a = ladder[i].arch;
    EXPECT_EQ(a.d_model % 32, 0);
    EXPECT_TRUE(a.head_dim() == 32 || a.head_dim() == 64) << law::describe(a);
    EXPECT_GE(a.n_layers, 1);
    EXPECT_LE(a.n_layers, 8);
    if (i > 0) {
      EXPECT_LT(ladder[i - 1].total_params, ladder[i].total_params);
    }
    EXPECT_EQ(ladder[i].total_params, total(a));
    has_micro |= a.d_model == 128 && a.n_layers == 4 && a.n_heads == 2;
  }
  EXPECT_TRUE(has_micro) << "the bench's micro model d128 L4 H2 E16 K1";
  EXPECT_EQ(nearest_shape(ladder, 1.0).arch.d_model, 32);
}

TEST(SweepGrid, SizesSpanAboutEightTimesAroundThePriorOptimum) {
  const SweepSetup setup = byte_setup();
  const std::vector<SweepRun> grid = design_grid(setup);
  const law::ScalingLaw law = prior_law(setup);
  std::set<std::string> keys;
  for (const double budget : setup.budgets_flops) {
    for (const std::int64_t experts : setup.experts) {
      std::vector<double> sizes;
      for (const SweepRun& r : grid)
        if (r.budget_flops == budget && r.arch.experts == experts) sizes.push_back(total(r.arch));
      ASSERT_GE(sizes.size(), 3u) << budget << " E" << experts;
      ASSERT_LE(sizes.size(), 4u);
      const double centre =
          prior_optimum(law, feasible_shapes(setup, experts, budget), budget).total_params;
      EXPECT_LT(sizes.front(), centre);
      EXPECT_GT(sizes.back(), centre);
      EXPECT_GT(sizes.back() / sizes.front(), 3.0);
      // About x8, widened by the ladder's granularity (d32 L1 -> d64 L2 is x6.6 at E = 4).
      EXPECT_LT(sizes.back() / sizes.front(), 40.0);
      // The centre is the law's best among the ladder's shapes: Eq. 6 at D = C / 6·N_a.
      for (const LadderShape& s : feasible_shapes(setup, experts, budget)) {
        const double d = budget / law::six_na_flops_per_token(s.active_params);
        const LadderShape& c = prior_optimum(law, feasible_shapes(setup, experts, budget), budget);
        EXPECT_GE(law::predict_loss(law, s.total_params, d, s.arch.sparsity()),
                  law::predict_loss(law, c.total_params,
                                    budget / law::six_na_flops_per_token(c.active_params),
                                    c.arch.sparsity()));
      }
    }
  }
  for (const SweepRun& r : grid) {
    EXPECT_EQ(r.arch.vocab_size, 256);
    EXPECT_EQ(r.key, run_key(setup, r.budget_flops, r.arch, r.replicate));
    EXPECT_TRUE(keys.insert(r.key).second) << "duplicate run " << law::describe(r.arch);
  }
}

TEST(SweepGrid, TargetsOnTheSameShapeCountOnceAndRepeatsAreDistinctRuns) {
  SweepSetup setup = byte_setup();
  setup.sizes = 40;  // far more targets than shapes in a x8 span
  setup.repeat_seeds = 2;
  const std::vector<SweepRun> grid = design_grid(setup);
  std::set<std::string> keys;
  int repeats = 0;
  for (const SweepRun& r : grid) {
    EXPECT_TRUE(keys.insert(r.key).second);
    repeats += r.kind == RunKind::kRepeat;
    if (r.kind == RunKind::kRepeat) {
      EXPECT_EQ(r.budget_flops, 3e13);  // the median budget
      EXPECT_GE(r.replicate, 1);
    }
  }
  EXPECT_EQ(repeats, 2 * 3);
  EXPECT_NE(run_seed(setup, 1), run_seed(setup, 0));
  EXPECT_NE(retry_seed(setup, 0), run_seed(setup, 0));
  // The seed is not part of the key: a retry replaces its row.
  SweepSetup other_seed = setup;
  other_seed.seed = 99;
  EXPECT_EQ(run_key(other_seed, 1e13, grid[0].arch, 0), run_key(setup, 1e13, grid[0].arch, 0));
  EXPECT_NE(run_key(setup, 1e13, grid[0].arch, 1), run_key(setup, 1e13, grid[0].arch, 0));
}

TEST(SweepGrid, EveryRunKeepsTheStepFloor) {
  const SweepSetup setup = byte_setup();
  for (const SweepRun& r : design_grid(setup)) {
    const TrainConfig c = run_train_config(setup, r.arch, r.budget_flops, 1, "/tmp/x");
    EXPECT_GE(c.total_steps(), setup.min_steps) << law::describe(r.arch);
  }
}

TEST(SweepGrid, Refusals) {
  SweepSetup setup = byte_setup();
  setup.budgets_flops = {1e13, 1e13};
  EXPECT_NE(error_of([&] { design_grid(setup); }).find("strictly increasing"), std::string::npos);
  setup.budgets_flops = {1e9, 1e13};
  const std::string small = error_of([&] { design_grid(setup); });
  EXPECT_NE(small.find("budget 1.00e+09 FLOPs is too small"), std::string::npos) << small;
  EXPECT_NE(small.find("200 steps"), std::string::npos) << small;
  EXPECT_EQ(experts_for_sparsity(0.75, 1), 4);
  EXPECT_EQ(experts_for_sparsity(0.75, 2), 8);
  EXPECT_NE(error_of([] { experts_for_sparsity(0.6, 1); }).find("not a whole number"),
            std::string::npos);
  EXPECT_EQ(default_sparsities().size(), 6u);
  EXPECT_DOUBLE_EQ(default_sparsities()[5], 1 - 1.0 / 32);
}

LedgerRow ok_row(const SweepRun& run, double loss) {
  LedgerRow r;
  r.key = run.key;
  r.val_loss = loss;
  r.params = total(run.arch);
  return r;
}

TEST(SweepBracketing, AddsASizeBeyondTheEdgeAtMostTwicePerSide) {
  SweepSetup setup = byte_setup();
  setup.budgets_flops = {3e13};
  setup.experts = {4};
  std::vector<SweepRun> runs = design_grid(setup);
  std::vector<LedgerRow> ledger;
  // Incomplete cell: nothing yet.
  ledger.push_back(ok_row(runs[0], 3.0));
  EXPECT_TRUE(bracket_runs(setup, runs, ledger).added.empty());
  // Loss falling with size: the largest is best, so one larger size is added.
  ledger.clear();
  for (std::size_t i = 0; i < runs.size(); ++i) ledger.push_back(ok_row(runs[i], 3.0 - 0.1 * i));
  BracketResult b = bracket_runs(setup, runs, ledger);
  ASSERT_EQ(b.added.size(), 1u);
  EXPECT_EQ(b.added[0].kind, RunKind::kBracket);
  EXPECT_GT(total(b.added[0].arch), total(runs.back().arch));
  ASSERT_EQ(b.messages.size(), 1u);
  EXPECT_NE(b.messages[0].find("is the largest swept; adding"), std::string::npos) << b.messages[0];
  // Still falling after two additions: no third, and it says so.
  for (int round = 0; round < 2; ++round) {
    runs.push_back(b.added[0]);
    ledger.push_back(ok_row(runs.back(), 2.0 - 0.1 * round));
    b = bracket_runs(setup, runs, ledger);
    if (round == 0) {
      ASSERT_EQ(b.added.size(), 1u);
    }
  }
  EXPECT_TRUE(b.added.empty());
  EXPECT_NE(b.messages[0].find("not bracketed after 2 added sizes"), std::string::npos);
  // A minimum inside the range: bracketed, nothing to add.
  ledger.clear();
  runs = design_grid(setup);
  for (std::size_t i = 0; i < runs.size(); ++i)
    ledger.push_back(ok_row(runs[i], i == 1 ? 2.0 : 3.0));
  EXPECT_TRUE(bracket_runs(setup, runs, ledger).added.empty());
  // Smallest best: a smaller one.
  ledger.clear();
  for (std::size_t i = 0; i < runs.size(); ++i) ledger.push_back(ok_row(runs[i], 2.0 + 0.1 * i));
  b = bracket_runs(setup, runs, ledger);
  ASSERT_EQ(b.added.size(), 1u);
  EXPECT_LT(total(b.added[0].arch), total(runs.front().arch));
}

TEST(SweepSlurm, ArrayRangesAndScript) {
  EXPECT_EQ(slurm_array_ranges({0, 1, 2, 3, 5, 7, 8}), "0-3,5,7-8");
  EXPECT_EQ(slurm_array_ranges({4}), "4");
  SlurmScriptOptions o;
  o.executable = "/opt/moeplan";
  o.sweep_dir = "/work/my sweep";
  o.indices = {2, 3, 9};
  o.concurrency = 3;
  o.device = "cpu";
  const std::string s = slurm_script(o);
  EXPECT_EQ(s.rfind("#!/bin/bash\n", 0), 0u);
  EXPECT_NE(s.find("#SBATCH --array=2-3,9%3\n"), std::string::npos) << s;
  EXPECT_EQ(s.find("--gres"), std::string::npos);
  EXPECT_NE(s.find("exec '/opt/moeplan' sweep --worker --index \"$SLURM_ARRAY_TASK_ID\" --out "
                   "'/work/my sweep'\n"),
            std::string::npos)
      << s;
  o.indices.clear();
  EXPECT_NE(error_of([&] { slurm_script(o); }).find("no runs to submit"), std::string::npos);
  o.indices = {1};
  o.sweep_dir = "relative";
  EXPECT_NE(error_of([&] { slurm_script(o); }).find("absolute"), std::string::npos);
}

}  // namespace
}  // namespace moeplan::verify
