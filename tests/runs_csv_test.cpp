// The runs CSV of `law fit` / `law surface`, and the CLI's behaviour on bad and good files.
#include "planner/runs_csv.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
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

// The ledger of `moeplan sweep` as it is: its columns (val_loss, N_active, status and many the
// fit does not read), with diverged and failed rows whose loss cells are empty.
std::string ledger_csv() {
  const law::ScalingLaw truth = law::preset_law("abnar2025");
  std::ostringstream out;
  out << "key,status,C,N,N_active,D,S,d_model,layers,heads,E,K,G,vocab,context,batch,lr,seed,steps,"
         "val_loss,train_loss,tokens_per_s,seconds,data_fingerprint,moeplan_version\n";
  out.precision(10);
  int row = 0;
  for (double c : {3e19, 1e20, 3e20, 1e21})
    for (double s : {0.0, 0.5, 0.75, 0.875})
      for (int k = 0; k < 4; ++k, ++row) {
        const double n = 1e8 * std::pow(100.0, k / 3.0), na = n * (0.2 + 0.8 * (1 - s)),
                     d = c / (6 * na);
        const char* status = row % 9 == 4 ? "diverged" : row % 17 == 6 ? "failed" : "ok";
        const bool ok = std::string(status) == "ok";
        const double loss = law::predict_loss(truth, n, d, s);
        out << "k" << row << "," << status << "," << c << "," << n << "," << na << "," << d << ","
            << s << ",512,4,8," << 1 / (1 - s) << ",1,1,256,256,32,0.001,1,300,";
        if (ok)
          out << loss << "," << loss + 0.01;
        else
          out << ",";
        out << ",1e5,12.5,fnv1a:0123,0.1.0\n";
      }
  return out.str();
}

TEST(RunsCsv, ReadsTheSweepLedgerAndLeavesOutRunsThatAreNotOk) {
  const RunsCsv table = parse_runs_table(ledger_csv(), "SWEEP/runs.csv");
  // rows 4, 13, 22, 31, 40, 49, 58 diverged; 6, 23, 57 failed (row % 9 == 4 wins at 40)
  EXPECT_EQ(table.left_out.at("diverged"), 7u);
  EXPECT_EQ(table.left_out.at("failed"), 3u);
  EXPECT_EQ(table.runs.size(), 64u - 10u);
  EXPECT_EQ(left_out_line(table), "left out 10 runs: 7 diverged, 3 failed");
  EXPECT_EQ(left_out_json(table)["by_status"]["failed"], 3);
  const law::FitRun& first = table.runs.front();
  EXPECT_DOUBLE_EQ(first.total_params, 1e8);
  EXPECT_DOUBLE_EQ(first.active_params, 1e8);  // N_active
  EXPECT_DOUBLE_EQ(first.budget_flops, 3e19);  // C
  EXPECT_GT(first.loss, 2.0);                  // val_loss, not train_loss (+0.01)
  // Status is case-insensitive; an ok row keeps the strict checks.
  EXPECT_EQ(parse_runs_table("N,D,S,val_loss,Status\n1e9,1e10,0,2,OK\n", "r").runs.size(), 1u);
  EXPECT_NE(
      error_of("N,D,S,loss,status\n1e9,1e10,0,,ok\n").find("runs.csv:2: loss '' is not a number"),
      std::string::npos);
  EXPECT_NE(error_of("N,D,S,loss,status\n1e9,1e10,0,,failed\n")
                .find("no runs after the header with status ok "
                      "(left out 1 run: 1 failed)"),
            std::string::npos);
}

TEST(RunsCsv, LossWinsOverValLossAndNActiveIsTheActiveColumn) {
  const auto runs = parse_runs_csv("N,D,S,loss,val_loss,N_active\n1e9,1e10,0.5,2.5,3.5,4e8\n", "r");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_DOUBLE_EQ(runs[0].loss, 2.5);
  EXPECT_DOUBLE_EQ(runs[0].active_params, 4e8);
  EXPECT_NE(error_of("N,D,S,loss,loss\n1e9,1e10,0,2,2\n").find("two columns give loss"),
            std::string::npos);
  EXPECT_NE(error_of("N,D,S,N_a,N_active,loss\n1e9,1e10,0,1,1,2\n")
                .find("two columns give active_params"),
            std::string::npos);
  EXPECT_NE(error_of("N,D,S,train_loss\n1e9,1e10,0,2\n")
                .find("missing column 'loss' (header names it loss or val_loss)"),
            std::string::npos);
}

// A huge field is quoted in the error as a short excerpt with its size, not echoed whole.
TEST(RunsCsv, AHugeFieldIsCutInTheError) {
  // The largest field a line may hold (planner::kMaxRunsCsvLineBytes) is cut in the error...
  const std::string huge(60 * 1024, 'x');
  const std::string error = error_of("N,D,S,loss\n1e9,1e10,0," + huge + "\n");
  EXPECT_LT(error.size(), 200u) << error.substr(0, 300);
  EXPECT_NE(error.find("runs.csv:2: loss 'xxxx"), std::string::npos) << error;
  EXPECT_NE(error.find("(61440 bytes)"), std::string::npos) << error;
  // ...and a longer one (20 MiB) is refused by the line limit, in a line as short.
  const std::string longer =
      error_of("N,D,S,loss\n1e9,1e10,0," + std::string(20 << 20, 'x') + "\n");
  EXPECT_LT(longer.size(), 200u) << longer.substr(0, 300);
  EXPECT_NE(longer.find("runs.csv:2: line longer than 65536 bytes"), std::string::npos) << longer;
}

TEST(LawFitCli, LedgerReportsWhatWasLeftOutInTableAndJson) {
  TempDir dir;
  write_text_file(dir / "runs.csv", ledger_csv());
  const auto table = run_moeplan({"law", "fit", (dir / "runs.csv").string(), "--starts", "40"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("left out 10 runs: 7 diverged, 3 failed"), std::string::npos)
      << table.out;
  const auto json = run_moeplan(
      {"law", "fit", (dir / "runs.csv").string(), "--starts", "40", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["fit"]["runs"], 54);
  EXPECT_EQ(j["fit"]["left_out"]["runs"], 10);
  EXPECT_EQ(j["fit"]["left_out"]["by_status"]["diverged"], 7);
  const auto surface = run_moeplan({"law", "surface", (dir / "runs.csv").string()});
  ASSERT_EQ(surface.exit_code, 0) << surface.err;
  EXPECT_NE(surface.out.find("left out 10 runs: 7 diverged, 3 failed"), std::string::npos)
      << surface.out;
  const auto surface_json =
      run_moeplan({"law", "surface", (dir / "runs.csv").string(), "--format", "json"});
  ASSERT_EQ(surface_json.exit_code, 0) << surface_json.err;
  EXPECT_EQ(nlohmann::json::parse(surface_json.out)["left_out"]["by_status"]["failed"], 3);
}

// Each warning once: in the table when the table is the report, on stderr with --format json.
TEST(LawFitCli, WarningsArePrintedOnce) {
  TempDir dir;
  std::ostringstream csv;
  csv << "N,D,S,loss\n";
  for (int i = 0; i < 12; ++i)
    csv << 1e8 * std::pow(2.0, i) << ",1e10," << (i % 2 ? 0.5 : 0.0) << "," << 2.0 + 0.01 * i
        << "\n";
  write_text_file(dir / "runs.csv", csv.str());
  const auto table = run_moeplan(
      {"law", "fit", (dir / "runs.csv").string(), "--starts", "30", "--holdout", "none"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("distinct sparsities"), std::string::npos) << table.out;
  EXPECT_EQ(table.err.find("distinct sparsities"), std::string::npos) << table.err;
  const auto json = run_moeplan({"law", "fit", (dir / "runs.csv").string(), "--starts", "30",
                                 "--holdout", "none", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.err.find("moeplan: warning: fewer than 3 distinct sparsities"), std::string::npos)
      << json.err;
}

TEST(LawFitCli, FixIsReportedInTableJsonAndLawFile) {
  TempDir dir;
  write_text_file(dir / "runs.csv", sweep_csv());
  const auto law_path = (dir / "law.json").string();
  const auto r = run_moeplan({"law", "fit", (dir / "runs.csv").string(), "--starts", "coarse",
                              "--fix", "e=0.94", "--fix", "gamma=0.1595,delta=0.1603",
                              "--bootstrap", "2", "-o", law_path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("fixed by --fix: e = 0.94 gamma = 0.1595 delta = 0.1603"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("coarse grid (2187, fixed axes collapsed)"), std::string::npos)
      << r.out;  // 3^7
  EXPECT_NE(r.out.find("percentile interval of the bootstrap refits' estimates"),
            std::string::npos);
  const auto j = nlohmann::json::parse(moeplan::testing::read_text_file(law_path));
  EXPECT_EQ(j["fit"]["fixed"]["e"], 0.94);
  EXPECT_EQ(j["fit"]["fixed"]["gamma"], 0.1595);
  EXPECT_EQ(j["fit"]["intervals"]["e"]["fixed"], true);
  EXPECT_EQ(j["coefficients"]["delta"], 0.1603);
  const auto bad = run_moeplan({"law", "fit", (dir / "runs.csv").string(), "--fix", "lamda=1"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("did you mean 'lambda'"), std::string::npos) << bad.err;
  const auto dense = run_moeplan(
      {"law", "fit", (dir / "runs.csv").string(), "--form", "chinchilla", "--fix", "c=1"});
  EXPECT_EQ(dense.exit_code, 1);
  EXPECT_NE(dense.err.find("has no coefficient 'c'"), std::string::npos) << dense.err;
}

TEST(LawFitCli, AHugeArgumentIsCutInTheError) {
  const std::string huge(100000, '7');  // under the kernel's 128 KiB per argument
  const auto r = run_moeplan({"law", "fit", "x.csv", "--bootstrap", huge + "z"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_LT(r.err.size(), 400u) << r.err.substr(0, 400);
  EXPECT_NE(r.err.find("bytes)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace moeplan::planner
