// `moeplan plan` as a user runs it: JSON contents, Markdown with plots, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "law/architecture.h"
#include "law/memory.h"
#include "law/presets.h"
#include "law/scaling_law.h"
#include "planner/plots.h"
#include "tests/support/cli_runner.h"

namespace moeplan {
namespace {

using testing::run_moeplan;
using testing::TempDir;

nlohmann::json plan_json(std::vector<std::string> args) {
  args.insert(args.begin(), "plan");
  args.push_back("--format");
  args.push_back("json");
  const auto r = run_moeplan(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

TEST(PlanCli, JsonCarriesEveryKeyAndConsistentNumbers) {
  const auto j = plan_json({"--budget", "1e21", "--gpus", "8", "--gpu-memory", "80GiB"});
  EXPECT_EQ(j["schema_version"], 1);
  for (const char* key : {"budget_flops",    "predicted_loss",
                          "sparsity",        "total_params",
                          "active_params",   "tokens",
                          "architecture",    "continuous_optimum",
                          "alternatives",    "memory",
                          "warnings",        "recipe",
                          "flops",           "law",
                          "param_breakdown", "embedding_params",
                          "domain_warnings", "notes",
                          "inputs",          "loss_terms"})
    EXPECT_TRUE(j.contains(key)) << key;
  for (const char* key : {"d_model", "n_layers", "n_heads", "head_dim", "experts", "active_experts",
                          "granularity", "expert_hidden", "vocab_size", "context"})
    EXPECT_TRUE(j["architecture"].contains(key)) << key;
  // Eq. 6 at the reported N, D, S.
  const law::ScalingLaw law = law::preset_law("abnar2025");
  const double N = j["total_params"], D = j["tokens"], S = j["sparsity"];
  EXPECT_NEAR(j["predicted_loss"].get<double>(), law::predict_loss(law, N, D, S), 1e-9);
  // 6·N_a·D is the budget within 0.5%.
  EXPECT_NEAR(6 * j["active_params"].get<double>() * D / 1e21, 1.0, 0.005);
  // N and N_a recomputed from the emitted architecture (App. C) match exactly.
  const auto& a = j["architecture"];
  const auto arch = law::make_paper_architecture(a["d_model"], a["n_layers"], a["n_heads"],
                                                 a["experts"], a["active_experts"],
                                                 a["granularity"], a["vocab_size"], a["context"]);
  EXPECT_EQ(arch.expert_hidden, a["expert_hidden"].get<std::int64_t>());
  const law::ParamCounts c = law::count_params(arch);
  EXPECT_EQ(c.total, j["total_params"].get<std::int64_t>());
  EXPECT_EQ(c.active, j["active_params"].get<std::int64_t>());
  EXPECT_EQ(c.embedding, j["embedding_params"].get<std::int64_t>());
  // The memory cap holds.
  law::MemorySetup setup;
  setup.devices = 8;
  EXPECT_LE(law::memory_per_device(arch, setup).per_device_bytes(), 80.0 * 1073741824.0);
  EXPECT_TRUE(j["memory"]["fits"].get<bool>());
  EXPECT_GE(j["alternatives"].size(), 2u);
}

TEST(PlanCli, Eq9WhenAsked) {
  const auto j = plan_json({"--budget", "3e20", "--memory", "200GiB", "--flops", "eq9"});
  EXPECT_NEAR(j["flops"]["eq9"].get<double>() / 3e20, 1.0, 0.005);
}

TEST(PlanCli, LargerCapNeverHigherLoss) {
  double previous = 1e9, previous_s = -1;
  for (const char* cap : {"4GiB", "32GiB", "256GiB"}) {
    const auto j = plan_json({"--budget", "1e21", "--memory", cap});
    EXPECT_LE(j["predicted_loss"].get<double>(), previous);
    EXPECT_GE(j["sparsity"].get<double>(), previous_s);
    previous = j["predicted_loss"];
    previous_s = j["sparsity"];
  }
}

TEST(PlanCli, SliceModes) {
  const auto p = plan_json({"--budget", "1e21", "--params", "3e8"});
  EXPECT_EQ(p["mode"], "params");
  EXPECT_EQ(p["sparsity"].get<double>(), 0.0);  // small model, large budget: dense
  const auto s = plan_json({"--budget", "1e21", "--sparsity", "0.875"});
  EXPECT_EQ(s["mode"], "sparsity");
  EXPECT_NEAR(s["sparsity"].get<double>(), 0.875, 0.005);
  EXPECT_EQ(s["continuous_optimum"]["sparsity"].get<double>(), 0.875);
}

TEST(PlanCli, BudgetFromGpuHours) {
  const auto j =
      plan_json({"--gpu-hours", "10000", "--gpu", "h100", "--mfu", "0.4", "--memory", "640GiB"});
  EXPECT_DOUBLE_EQ(j["budget_flops"].get<double>(), 10000 * 3600.0 * 989e12 * 0.4);
  EXPECT_NE(j["inputs"]["budget"]["derivation"].get<std::string>().find("h100"), std::string::npos);
}

TEST(PlanCli, TableIsDefaultAndOutputFileIsWritten) {
  TempDir tmp;
  const auto r = run_moeplan({"plan", "--budget", "1e20", "--memory", "80GiB"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("predicted loss"), std::string::npos);
  const auto path = tmp / "plan.json";
  const auto w = run_moeplan(
      {"plan", "--budget", "1e20", "--memory", "80GiB", "--format", "json", "-o", path.string()});
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_TRUE(w.out.empty());
  EXPECT_EQ(nlohmann::json::parse(testing::read_text_file(path))["schema_version"], 1);
}

TEST(PlanCli, MarkdownLinksThreePlots) {
  TempDir tmp;
  const auto path = tmp / "plan.md";
  const auto r = run_moeplan({"plan", "--budget", "1e21", "--gpus", "8", "--gpu-memory", "80GiB",
                              "--format", "markdown", "-o", path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string md = testing::read_text_file(path);
  EXPECT_NE(md.find("| d_model |"), std::string::npos);
  if (planner::find_on_path("gnuplot").empty()) {
    EXPECT_NE(md.find("gnuplot is not installed"), std::string::npos);
    return;
  }
  for (const char* png :
       {"plan-sparsity-slice.png", "plan-params-slice.png", "plan-optimal-sparsity.png"}) {
    EXPECT_NE(md.find(std::string("](") + png + ")"), std::string::npos) << png;
    EXPECT_GT(std::filesystem::file_size(tmp / png), 1000u) << png;
  }
  // Nothing temporary is left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) (void)e, ++files;
  EXPECT_EQ(files, 4);
}

TEST(PlanCli, MarkdownOnStdoutSaysWhereThePlotsAre) {
  const auto r =
      run_moeplan({"plan", "--budget", "1e20", "--memory", "80GiB", "--format", "markdown"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("plots not rendered"), std::string::npos);
}

TEST(PlanCli, Help) {
  const auto r = run_moeplan({"plan", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--budget", "--gpu-hours", "--memory", "--gpus", "--max-params",
                           "--regime", "--law", "--params", "--sparsity", "--format"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

// Bad input: a one-line error, a non-zero exit and no output file.
void expect_clean_failure(std::vector<std::string> args, const std::string& needle) {
  TempDir tmp;
  const auto out = tmp / "plan.json";
  args.insert(args.begin(), "plan");
  bool has_output = false;
  for (const auto& a : args) has_output |= a == "-o";
  if (!has_output) {
    args.push_back("-o");
    args.push_back(out.string());
  }
  const auto r = run_moeplan(args);
  SCOPED_TRACE(r.err);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  EXPECT_NE(r.err.find("error"), std::string::npos);
  EXPECT_NE(r.err.find(needle), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_TRUE(r.out.empty());
}

TEST(PlanCliErrors, BadBudgets) {
  expect_clean_failure({"--budget", "-1e21"}, "--budget");
  expect_clean_failure({"--budget", "0"}, "--budget");
  expect_clean_failure({"--budget", "nan"}, "--budget");
  expect_clean_failure({"--budget", "lots"}, "--budget");
  expect_clean_failure({"--memory", "80GiB"}, "budget");
}

TEST(PlanCliErrors, UnknownPreset) {
  expect_clean_failure({"--budget", "1e21", "--law", "abnar2052"}, "abnar2025");
}

TEST(PlanCliErrors, CapTooSmall) {
  expect_clean_failure({"--budget", "1e21", "--memory", "1MiB"}, "too small");
  expect_clean_failure({"--budget", "1e21", "--max-params", "1000"}, "too small");
}

TEST(PlanCliErrors, SparsityBoundsInverted) {
  expect_clean_failure({"--budget", "1e21", "--min-sparsity", "0.9", "--max-sparsity", "0.5"},
                       "--min-sparsity");
}

TEST(PlanCliErrors, UnwritableOutput) {
  expect_clean_failure({"--budget", "1e21", "-o", "/nonexistent-dir/plan.json"}, "cannot write");
}

TEST(PlanCliErrors, MalformedLawFile) {
  TempDir tmp;
  const auto law = tmp / "law.json";
  testing::write_text_file(law, R"({"form": "abnar2025", "coefficients": {"a": 1}})");
  expect_clean_failure({"--budget", "1e21", "--law", law.string()}, "law");
  testing::write_text_file(law, "{ not json");
  expect_clean_failure({"--budget", "1e21", "--law", law.string()}, "JSON");
}

TEST(PlanCliErrors, OtherMistakes) {
  expect_clean_failure({"--budget", "1e21", "--format", "yaml"}, "--format");
  expect_clean_failure({"--budget", "1e21", "--gpus", "8"}, "--gpu-memory");
  expect_clean_failure({"--gpu-hours", "100", "--gpu", "h1000"}, "h100");
  expect_clean_failure({"--budget", "1e21", "--budgit", "3"}, "--budget");
}

}  // namespace
}  // namespace moeplan
