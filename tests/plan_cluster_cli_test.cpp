// What a first-time user of `plan` tripped on (issue 12), through the binary: a budget too small
// for any model, slices that answer the question asked, cluster plans with their layout, the
// commands that check a plan, and plots that show what binds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "law/presets.h"
#include "planner/plan.h"
#include "planner/plots.h"
#include "planner/slices.h"
#include "planner/surface_report.h"
#include "support/cli_runner.h"

namespace moeplan {
namespace {

using testing::run_moeplan;

TEST(PlanCluster, TinyBudgetNamesTheSmallestUsefulOne) {
  const auto r = run_moeplan({"plan", "--budget", "1e5"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("smallest useful budget is"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  // A budget at the floor plans a model of whole layers.
  const auto ok = run_moeplan({"plan", "--budget", "1e15", "--format", "json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(PlanCluster, SparsityPicksTheExactRatio) {
  const auto r = run_moeplan(
      {"plan", "--budget", "1e20", "--memory", "80GiB", "--sparsity", "0.9", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& arch = j["architecture"];
  EXPECT_EQ(arch["experts"].get<int>(), 10 * arch["active_experts"].get<int>());
  EXPECT_NEAR(j["sparsity"].get<double>(), 0.9, 1e-12);
  EXPECT_NE(j["notes"].dump().find("exactly the requested 0.9"), std::string::npos);
}

TEST(PlanCluster, SparsityAboveTheBoundNamesTheFlag) {
  const auto r =
      run_moeplan({"plan", "--budget", "1e20", "--memory", "80GiB", "--sparsity", "0.99"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("raise --max-sparsity"), std::string::npos) << r.err;
}

TEST(PlanCluster, ParamsSliceSaysHowFarAndTheLoss) {
  const auto r = run_moeplan(
      {"plan", "--budget", "1e20", "--memory", "80GiB", "--params", "2e9", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto notes = nlohmann::json::parse(r.out)["notes"].dump();
  EXPECT_NE(notes.find("% from the requested 2"), std::string::npos) << notes;
  EXPECT_NE(notes.find("its predicted loss is"), std::string::npos) << notes;
}

TEST(PlanCluster, GpusAlonePlansALayoutAndExportsIt) {
  const auto table =
      run_moeplan({"plan", "--budget", "1e21", "--gpus", "8", "--gpu-memory", "80GiB"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("parallel layout"), std::string::npos);
  const auto args = run_moeplan(
      {"plan", "--budget", "1e21", "--gpus", "8", "--gpu-memory", "80GiB", "--export", "megatron"});
  ASSERT_EQ(args.exit_code, 0) << args.err;
  EXPECT_NE(args.out.find("--expert-model-parallel-size"), std::string::npos);
  EXPECT_NE(args.out.find("--use-distributed-optimizer"), std::string::npos);
  const auto fixed = run_moeplan({"plan", "--budget", "1e21", "--gpus", "8", "--gpu-memory",
                                  "80GiB", "--tensor-parallel", "2", "--format", "json"});
  ASSERT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_EQ(nlohmann::json::parse(fixed.out)["memory"]["parallel"]["tensor"].get<int>(), 2);
  const auto alone =
      run_moeplan({"plan", "--budget", "1e21", "--memory", "80GiB", "--expert-parallel", "8"});
  EXPECT_EQ(alone.exit_code, 1);
  EXPECT_NE(alone.err.find("--expert-parallel needs --gpus"), std::string::npos) << alone.err;
}

TEST(PlanCluster, ReportEndsWithTheCommandsThatCheckIt) {
  const auto r = run_moeplan({"plan", "--budget", "1e20", "--memory", "80GiB"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto tail = r.out.substr(r.out.rfind("Next steps"));
  EXPECT_NE(tail.find("moeplan sweep --data DIR --budgets 1e13,3e13,1e14,3e14 --out sweep/"),
            std::string::npos);
  EXPECT_NE(tail.find("moeplan law fit sweep/runs.csv --bootstrap 100 -o law.json"),
            std::string::npos);
  EXPECT_NE(tail.find("moeplan verify --sweep sweep/ --law law.json --budget"), std::string::npos);
  EXPECT_NE(tail.find("moeplan verify --plan plan.json --law law.json --log megatron.log"),
            std::string::npos);
  EXPECT_NE(tail.find("--measured-loss"), std::string::npos);
}

planner::PlanResult capped_plan() {
  planner::PlanRequest r;
  r.law = law::preset_law("abnar2025");
  r.budget.flops = 1e21;
  r.budget.derivation = "given";
  r.cap.bytes_per_device = 80.0 * 1073741824.0;
  return planner::make_plan(r);
}

TEST(PlanCluster, PlotLegendsSitBelowThePlots) {
  const planner::PlanResult plan = capped_plan();
  for (const std::string& script : planner::plot_scripts(plan, planner::plan_slices(plan))) {
    EXPECT_NE(script.find("set key below"), std::string::npos);
    EXPECT_EQ(script.find("bottom right"), std::string::npos);
  }
}

TEST(PlanCluster, ParamsSliceMarksTheMemoryCap) {
  const planner::PlanResult plan = capped_plan();
  const planner::PlanSlices slices = planner::plan_slices(plan);
  ASSERT_TRUE(slices.params_cap.has_value());
  // The plan sits at (or just under) the cap, left of the uncapped minimum.
  EXPECT_NEAR(*slices.params_cap / static_cast<double>(plan.chosen.counts.total), 1.0, 0.2);
  EXPECT_NE(planner::plot_scripts(plan, slices)[1].find("memory cap N ="), std::string::npos);
}

TEST(PlanCluster, SurfacePlotsMarkOptimaAtTheEdge) {
  planner::SurfaceAnalysis analysis;
  planner::BudgetSurface b;
  b.surface.budget_flops = 1e18;
  b.params_at_sparsity = {{0.5, 1e8, 3.1, std::nullopt, false},
                          {0.9, 4e8, 3.0, std::nullopt, true}};
  b.sparsity_at_params = {{1e8, 0.5, 3.1, std::nullopt, false}};
  analysis.budgets.push_back(b);
  const std::string nstar =
      planner::surface_plot_commands(analysis, planner::SurfacePlot::kOptimalParams);
  EXPECT_NE(nstar.find("at the edge of the swept range"), std::string::npos);
  EXPECT_NE(nstar.find("$edge << EOD\n0.9 4e+08\n"), std::string::npos) << nstar;
  const std::string sstar =
      planner::surface_plot_commands(analysis, planner::SurfacePlot::kOptimalSparsity);
  EXPECT_EQ(sstar.find("edge"), std::string::npos);
}

}  // namespace
}  // namespace moeplan
