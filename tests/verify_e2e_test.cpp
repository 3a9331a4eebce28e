// The whole loop on the CPU, as a user runs it: `sweep` trains a tiny grid on byte-level
// text made from the repository's own docs, `law fit` fits the ledger (the dense form: too few
// runs for Eq. 6's ten coefficients) with bootstrap refits, and
// `verify` plans at twice the largest swept budget, records the prediction, trains the plan and
// gives a verdict. Minutes at most; the verdict itself is not asserted (a tiny sweep's law may
// miss), only that the loop runs and reports every part.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/cli_runner.h"
#include "verify/check/verdict.h"
#include "verify/sweep/ledger.h"
#include "verify/sweep/sweep_setup.h"

namespace moeplan::verify {
namespace {

using testing::run_moeplan;

TEST(VerifyEndToEnd, SweepFitVerifyOnTheCpu) {
  testing::TempDir dir;
  const std::string src = MOEPLAN_SOURCE_DIR;
  const auto data = dir / "data";
  const auto prepared =
      run_moeplan({"data", "prepare", "--tokenizer", "bytes", "--input", src + "/README.md",
                   src + "/docs", src + "/man", "--out", data.string()});
  ASSERT_EQ(prepared.exit_code, 0) << prepared.err;

  const auto sweep = dir / "sweep";
  const auto swept =
      run_moeplan({"sweep", "--data", data.string(), "--budgets", "1e10,2e10,4e10", "--sparsities",
                   "0,0.5", "--sizes", "2", "--context", "64", "--val-tokens", "2048", "--device",
                   "cpu", "--jobs", "2", "--out", sweep.string()});
  ASSERT_EQ(swept.exit_code, 0) << swept.err;
  const auto rows = read_ledger(sweep / kLedgerFileName);
  ASSERT_GE(rows.size(), 6u);  // tiny budgets: few distinct shapes

  const auto law = dir / "fit.json";
  const auto fit = run_moeplan({"law", "fit", (sweep / kLedgerFileName).string(), "--form",
                                "chinchilla", "--holdout", "none", "--starts", "coarse",
                                "--bootstrap", "10", "-o", law.string()});
  ASSERT_EQ(fit.exit_code, 0) << fit.err;

  const auto out = dir / "verify";
  const auto verified =
      run_moeplan({"verify", "--sweep", sweep.string(), "--law", law.string(), "--budget", "8e10",
                   "--out", out.string(), "--format", "json"});
  ASSERT_TRUE(verified.exit_code == kExitVerifyPass || verified.exit_code == kExitVerifyFail)
      << verified.err;
  const auto report = nlohmann::json::parse(verified.out);
  const auto& parts = report.at("prediction").at("interval").at("parts");
  EXPECT_TRUE(parts.at("backtest").contains("relative_error")) << parts.dump();
  EXPECT_TRUE(parts.at("noise").contains("missing"));  // no --seeds: said, not invented
  EXPECT_TRUE(report.at("measured_loss").is_number());
  EXPECT_EQ(report.at("exit_code"), verified.exit_code);
  EXPECT_TRUE(std::filesystem::exists(out / "prediction.json"));
  EXPECT_TRUE(std::filesystem::exists(out / "run" / "result.json"));
  std::cout << "verify: predicted " << report.at("prediction").at("predicted_loss") << ", measured "
            << report.at("measured_loss") << ": " << report.at("verdict_line") << "\n";
}

}  // namespace
}  // namespace moeplan::verify
