// The runs CSV of `law fit` / `law surface`, and the CLI's behaviour on bad and good files.
#include "planner/runs_csv.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "law/presets.h"
#include "planner/law_source.h"
#include "tests/support/cli_runner.h"
#include "tests/support/synthetic_sweep.h"
#include "util/error.h"

namespace moeplan::planner {
namespace {

using moeplan::testing::run_moeplan;
using moeplan::testing::TempDir;
using moeplan::testing::write_text_file;

std::string error_of(const std::string& text) {
  try {
    parse_runs_csv(text, "runs.csv");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// 5 budgets × 4 sparsities × 6 sizes of Table 3's law, noise-free, as CSV text.
std::string sweep_csv() {
  moeplan::testing::SyntheticSweep sweep;
  sweep.budgets = {3e19, 1e20, 3e20, 1e21};
  sweep.sparsities = {0.0, 0.5, 0.75, 0.875, 0.9375};
  sweep.sizes = 6;
  sweep.min_params = 1e8;
  sweep.max_params = 1e10;
  std::ostringstream out;
  out << "N,D,S,loss,C,active_params\n";
  out.precision(10);
  for (const auto& r : moeplan::testing::synthetic_sweep(law::preset_law("abnar2025"), sweep)) {
    out << r.total_params << "," << r.tokens << "," << r.sparsity << "," << r.loss << ","
        << r.budget_flops << "," << r.active_params << "\n";
  }
  return out.str();
}

TEST(RunsCsv, ColumnsByNameInAnyOrderWithAliases) {
  const auto runs = parse_runs_csv("# a comment\nloss, Sparsity ,tokens,params,extra\n2.5,0.5,1e10,1e9,x\n\n", "r");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_DOUBLE_EQ(runs[0].total_params, 1e9);
  EXPECT_DOUBLE_EQ(runs[0].tokens, 1e10);
  EXPECT_DOUBLE_EQ(runs[0].sparsity, 0.5);
  EXPECT_DOUBLE_EQ(runs[0].loss, 2.5);
  EXPECT_DOUBLE_EQ(runs[0].budget_flops, 0);
}

TEST(RunsCsv, BadFilesNameTheLine) {
  EXPECT_NE(error_of("N,D,S\n1e9,1e10,0\n").find("runs.csv:1: missing column 'loss'"), std::string::npos);
  EXPECT_NE(error_of("N,D,S,loss\n1e9,1e10,0,2\n1e9,abc,0,2\n").find("runs.csv:3: tokens 'abc' is not a number"),
            std::string::npos);
  EXPECT_NE(error_of("N,D,S,loss\n1e9,1e10,0,-2\n").find("runs.csv:2: loss must be > 0"), std::string::npos);
  // The same strict number syntax as every other moeplan input: no hex, nan or inf.
  EXPECT_NE(error_of("N,D,S,loss\n0x1p30,1e10,0,2\n").find("runs.csv:2: params '0x1p30' is not a number"),
            std::string::npos);
  EXPECT_NE(error_of("N,D,S,loss\n1e9,1e10,0,nan\n").find("runs.csv:2: loss 'nan' is not a number"),
            std::string::npos);
  EXPECT_NE(error_of("N,D,S,loss\n1e9,1e10,1.5,2\n").find("runs.csv:2: sparsity"), std::string::npos);
  EXPECT_NE(error_of("N,D,S,loss\n1e9,1e10,0\n").find("runs.csv:2: 3 fields"), std::string::npos);
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("N,D,S,loss\n").find("no runs"), std::string::npos);
}

TEST(LawFitCli, BadCsvsExitNonZeroWithLineNumbers) {
  TempDir dir;
  const auto check = [&](const std::string& text, const std::string& expected) {
    write_text_file(dir / "runs.csv", text);
    const auto r = run_moeplan({"law", "fit", (dir / "runs.csv").string(), "--starts", "10", "-o",
                                (dir / "law.json").string()});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "law.json"));
  };
  check("N,D,loss\n1e9,1e10,2\n", "runs.csv:1: missing column 'sparsity'");
  check("N,D,S,loss\n1e9,1e10,0,2\n1e9,1e10,0,two\n", "runs.csv:3: loss 'two' is not a number");
  check("N,D,S,loss\n1e9,1e10,0,0\n", "runs.csv:2: loss must be > 0");
  check("N,D,S,loss\n1e9,1e10,0,2\n2e9,1e10,0.5,2\n", "too few runs");
}

TEST(LawFitCli, FittedLawFileLoadsAsALaw) {
  TempDir dir;
  write_text_file(dir / "runs.csv", sweep_csv());
  const auto law_path = (dir / "law.json").string();
  const auto r = run_moeplan({"law", "fit", (dir / "runs.csv").string(), "--starts", "150", "--bootstrap", "3",
                              "-o", law_path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("held-out"), std::string::npos);
  const law::ScalingLaw law = load_law(law_path);
  EXPECT_EQ(law.form, law::LawForm::kSparse);
  EXPECT_EQ(law.bootstrap.size(), 3u);
  ASSERT_TRUE(law.domain.sparsity.has_value());
  EXPECT_DOUBLE_EQ(law.domain.sparsity->hi, 0.875);  // 0.9375 held out
  // Noise-free data: the fit reproduces the runs closely.
  const double n = 1e9, na = n * (0.2 + 0.8 * 0.25), d = 1e20 / (6 * na);
  EXPECT_NEAR(law::predict_loss(law, n, d, 0.75), law::predict_loss(law::preset_law("abnar2025"), n, d, 0.75), 0.01);
  const auto text = moeplan::testing::read_text_file(law_path);
  EXPECT_NE(text.find("\"warnings\""), std::string::npos);
  EXPECT_NE(text.find("\"held_out_set\""), std::string::npos);
}

TEST(LawSurfaceCli, WritesJsonAndPlots) {
  TempDir dir;
  write_text_file(dir / "runs.csv", sweep_csv());
  const auto r = run_moeplan({"law", "surface", (dir / "runs.csv").string(), "-o", (dir / "s.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("budget 1.00e+20"), std::string::npos);
  EXPECT_NE(moeplan::testing::read_text_file(dir / "s.json").find("\"optimal_sparsity\""), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "s-sstar.png"));
  EXPECT_TRUE(std::filesystem::exists(dir / "s-nstar.png"));
}

}  // namespace
}  // namespace moeplan::planner
