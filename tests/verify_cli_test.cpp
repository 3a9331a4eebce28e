// `moeplan verify` as a user runs it, without training: a SWEEP/ written by the test through the
// shared sweep headers (sweep.json, runs.csv), a law fitted by the test, and --measured-loss or
// --log. The verdict's exit codes, the prediction file written once, and the refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "law/law_json.h"
#include "law/presets.h"
#include "planner/plots.h"
#include "support/cli_runner.h"
#include "verify/check/verdict.h"
#include "verify/sweep/ledger.h"
#include "verify/sweep/sweep_setup.h"

namespace moeplan::verify {
namespace {

using testing::run_moeplan;

constexpr double kLargestSweptBudget = 1e15;

// A dense sweep of 3 budgets × 5 sizes whose losses follow Hoffmann's law with 0.3 % noise,
// the middle size of each budget run with a second seed.
struct HandMadeSweep {
  testing::TempDir dir;
  std::filesystem::path sweep, law_file, law_without_bootstrap;

  HandMadeSweep() {
    sweep = dir / "sweep";
    std::filesystem::create_directories(sweep);
    SweepSetup setup;
    setup.data_dir = dir.path() / "data";
    setup.data_fingerprint = "0123456789abcdef";
    setup.vocab_size = 256;
    setup.context = 64;
    setup.budgets_flops = {1e14, 3e14, kLargestSweptBudget};
    setup.experts = {1};
    setup.prior_law = law::law_to_json(law::preset_law("hoffmann2022"));
    setup.moeplan_version = "test";
    write_sweep_setup(sweep, setup);
    const law::ScalingLaw truth = law::preset_law("hoffmann2022");
    std::mt19937_64 rng(7);
    std::normal_distribution<double> noise(0, 0.003);
    int index = 0;
    for (double c : setup.budgets_flops)
      for (int k = 0; k < 5; ++k)
        for (std::uint64_t seed : {1, 2}) {
          if (seed == 2 && k != 2) continue;
          LedgerRow r;
          r.key = "run" + std::to_string(index++);
          r.budget_flops = c;
          r.params = 2e5 * std::pow(2.0, k) * std::sqrt(c / 1e14);
          r.active_params = r.params;
          r.tokens = c / (6 * r.params);
          r.d_model = 64;
          r.layers = 2;
          r.heads = 1;
          r.experts = r.top_k = r.granularity = 1;
          r.vocab = 256;
          r.context = 64;
          r.batch_sequences = 8;
          r.seed = seed;
          r.steps = 200;
          r.val_loss = law::predict_loss(truth, r.params, r.tokens, 0) * std::exp(noise(rng));
          r.train_loss = r.val_loss;
          r.seconds = 10;
          r.data_fingerprint = setup.data_fingerprint;
          r.moeplan_version = "test";
          record_run(sweep / kLedgerFileName, r);
        }
    law_file = dir / "fit.json";
    law_without_bootstrap = dir / "fit-nobootstrap.json";
    write_law(law_file, 8);
    write_law(law_without_bootstrap, 0);
  }

  // `law fit` on the ledger as a user runs it (the coarse grid keeps it quick).
  void write_law(const std::filesystem::path& path, int bootstrap) const {
    const auto r = run_moeplan({"law", "fit", (sweep / kLedgerFileName).string(), "--form",
                                "chinchilla", "--holdout", "none", "--starts", "coarse",
                                "--bootstrap", std::to_string(bootstrap), "-o", path.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::vector<std::string> args(std::vector<std::string> more) const {
    std::vector<std::string> a = {"verify",          "--sweep",  sweep.string(), "--law",
                                  law_file.string(), "--budget", "1e16"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
};

double predicted_loss(const HandMadeSweep& s) {
  const auto r = run_moeplan(s.args({"--measured-loss", "1", "--format", "json"}));
  EXPECT_EQ(r.exit_code, kExitVerifyFail) << r.err;
  return nlohmann::json::parse(r.out).at("prediction").at("predicted_loss").get<double>();
}

TEST(VerifyCli, MeasuredLossAtThePredictionPassesFarOffFails) {
  HandMadeSweep s;
  const double predicted = predicted_loss(s);
  EXPECT_GT(predicted, 1.0);
  const auto pass = run_moeplan(s.args({"--measured-loss", std::to_string(predicted)}));
  EXPECT_EQ(pass.exit_code, kExitVerifyPass) << pass.err;
  EXPECT_NE(pass.out.find("verdict: PASS"), std::string::npos) << pass.out;
  EXPECT_NE(pass.out.find("backtest: refit up to 3e+14"), std::string::npos) << pass.out;
  EXPECT_NE(pass.out.find("run-to-run noise: std"), std::string::npos) << pass.out;
  const auto fail = run_moeplan(s.args({"--measured-loss", std::to_string(predicted * 1.2)}));
  EXPECT_EQ(fail.exit_code, kExitVerifyFail) << fail.err;
  EXPECT_NE(fail.out.find("verdict: FAIL"), std::string::npos) << fail.out;
  EXPECT_NE(fail.out.find("tolerance"), std::string::npos) << fail.out;
}

TEST(VerifyCli, MegatronLogIsReadAndJsonReportsTheParts) {
  HandMadeSweep s;
  const double predicted = predicted_loss(s);
  const auto log = s.dir / "megatron.log";
  char line[200];
  std::snprintf(line, sizeof line,
                " validation loss at iteration 2000 | lm loss value: %.6E | lm loss PPL: 1 | \n",
                predicted * 1.001);
  testing::write_text_file(log, std::string(" validation loss at iteration 1000 | lm loss value: "
                                            "9.0E+00 | lm loss PPL: 1 | \n") +
                                    line);
  const auto r = run_moeplan(s.args({"--log", log.string(), "--format", "json"}));
  EXPECT_EQ(r.exit_code, kExitVerifyPass) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j.at("measured_loss").get<double>(), predicted * 1.001, 1e-5);
  EXPECT_EQ(j.at("verdict"), "PASS");
  const auto& parts = j.at("prediction").at("interval").at("parts");
  EXPECT_TRUE(parts.at("backtest").contains("scaled_relative_error"));
  EXPECT_EQ(parts.at("noise").at("groups"), 3);
  EXPECT_EQ(j.at("claims").size(), 2u);
}

TEST(VerifyCli, MarkdownWithPlotsBesideTheFile) {
  HandMadeSweep s;
  const auto log = s.dir / "train.jsonl";
  testing::write_text_file(log,
                           "{\"step\":0,\"val_loss\":6.2}\n{\"step\":50,\"train_loss\":5.9}\n"
                           "{\"step\":100,\"train_loss\":5.5,\"val_loss\":5.45}\n");
  const auto md = s.dir / "report.md";
  const auto r =
      run_moeplan(s.args({"--log", log.string(), "--format", "markdown", "-o", md.string()}));
  ASSERT_TRUE(r.exit_code == kExitVerifyPass || r.exit_code == kExitVerifyFail) << r.err;
  const std::string text = testing::read_text_file(md);
  EXPECT_NE(text.find("# moeplan verify at 1e+16 FLOPs"), std::string::npos) << text;
  EXPECT_NE(text.find("measured: 5.4500 (moeplan-jsonl log"), std::string::npos) << text;
  if (planner::find_on_path("gnuplot").empty()) {
    EXPECT_NE(text.find("gnuplot is not installed"), std::string::npos) << text;
    return;
  }
  for (const char* png : {"report-fit.png", "report-prediction.png", "report-curve.png"}) {
    EXPECT_TRUE(std::filesystem::exists(s.dir / png)) << png;
    EXPECT_NE(text.find(std::string("](") + png + ")"), std::string::npos) << text;
  }
}

TEST(VerifyCli, PredictionWrittenOnceAndReused) {
  HandMadeSweep s;
  const auto out = s.dir / "verify";
  const auto first = run_moeplan(s.args({"--measured-loss", "3", "--out", out.string()}));
  ASSERT_NE(first.exit_code, 1) << first.err;
  const std::string recorded = testing::read_text_file(out / "prediction.json");
  const auto again = run_moeplan(s.args({"--measured-loss", "3", "--out", out.string()}));
  EXPECT_EQ(again.exit_code, first.exit_code);
  EXPECT_NE(again.out.find("recorded earlier"), std::string::npos) << again.out;
  const auto looser =
      run_moeplan(s.args({"--measured-loss", "3", "--out", out.string(), "--tolerance", "0.5"}));
  EXPECT_EQ(looser.exit_code, 1);
  EXPECT_NE(looser.err.find("never overwritten"), std::string::npos) << looser.err;
  EXPECT_EQ(testing::read_text_file(out / "prediction.json"), recorded);
}

TEST(VerifyCli, GivenPlanIsPredictedAndATimeLimitNamesTheBudgetThatFits) {
  HandMadeSweep s;
  const auto plan = s.dir / "plan.json";
  const auto planned =
      run_moeplan({"plan", "--budget", "3e16", "--law", s.law_file.string(), "--vocab", "256",
                   "--context", "64", "--format", "json", "-o", plan.string()});
  ASSERT_EQ(planned.exit_code, 0) << planned.err;
  const auto plan_json = nlohmann::json::parse(testing::read_text_file(plan));
  // No --budget: the plan's own; the prediction is for the plan's architecture.
  const auto r = run_moeplan({"verify", "--sweep", s.sweep.string(), "--law", s.law_file.string(),
                              "--plan", plan.string(), "--measured-loss", "3", "--format", "json"});
  ASSERT_EQ(r.exit_code, kExitVerifyFail) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report.at("prediction").at("plan").at("budget_flops"), 3e16);
  EXPECT_EQ(report.at("prediction").at("plan").at("architecture").at("d_model"),
            plan_json.at("architecture").at("d_model"));
  EXPECT_NEAR(report.at("prediction").at("predicted_loss").get<double>(),
              plan_json.at("predicted_loss").get<double>(), 1e-9);

  // Training it here: the sweep measured 1e15 FLOPs in 10 s, so 3e16 FLOPs take 300 s.
  const auto out = s.dir / "verify";
  const auto slow =
      run_moeplan({"verify", "--sweep", s.sweep.string(), "--law", s.law_file.string(), "--plan",
                   plan.string(), "--time-limit", "60", "--out", out.string()});
  EXPECT_EQ(slow.exit_code, 1);
  EXPECT_NE(slow.err.find("6.00e+15 FLOPs would fit"), std::string::npos) << slow.err;
  EXPECT_FALSE(std::filesystem::exists(out / "prediction.json"));
}

TEST(VerifyCli, Refusals) {
  HandMadeSweep s;
  const auto no_bootstrap =
      run_moeplan({"verify", "--sweep", s.sweep.string(), "--law", s.law_without_bootstrap.string(),
                   "--budget", "1e16", "--measured-loss", "3"});
  EXPECT_EQ(no_bootstrap.exit_code, 1);
  EXPECT_NE(no_bootstrap.err.find("--bootstrap 100"), std::string::npos) << no_bootstrap.err;

  for (const char* budget : {"1e15", "1e14"}) {
    const auto low = run_moeplan({"verify", "--sweep", s.sweep.string(), "--law",
                                  s.law_file.string(), "--budget", budget, "--measured-loss", "3"});
    EXPECT_EQ(low.exit_code, 1);
    EXPECT_NE(low.err.find("largest swept budget"), std::string::npos) << low.err;
  }

  // A plan far beyond the machine's memory: refused before the prediction is recorded.
  const auto huge = s.dir / "huge-plan.json";
  testing::write_text_file(huge, R"({"budget_flops": 1e22, "architecture": {"d_model": 16384,
      "n_layers": 128, "n_heads": 128, "experts": 1, "active_experts": 1, "granularity": 1,
      "vocab_size": 256, "context": 64}})");
  const auto too_big =
      run_moeplan({"verify", "--sweep", s.sweep.string(), "--law", s.law_file.string(), "--plan",
                   huge.string(), "--out", (s.dir / "huge").string()});
  EXPECT_EQ(too_big.exit_code, 1);
  EXPECT_NE(too_big.err.find("does not fit"), std::string::npos) << too_big.err;
  EXPECT_FALSE(std::filesystem::exists(s.dir / "huge" / "prediction.json"));

  auto rows = read_ledger(s.sweep / kLedgerFileName);
  rows[3].data_fingerprint = "ffffffffffffffff";
  record_run(s.sweep / kLedgerFileName, rows[3]);
  const auto out = s.dir / "verify";
  const auto other_data = run_moeplan(s.args({"--measured-loss", "3", "--out", out.string()}));
  EXPECT_EQ(other_data.exit_code, 1);
  EXPECT_NE(other_data.err.find("other data"), std::string::npos) << other_data.err;
  EXPECT_FALSE(std::filesystem::exists(out / "prediction.json"));
}

}  // namespace
}  // namespace moeplan::verify
