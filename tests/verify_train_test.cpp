// `moeplan verify` training here, on the CPU: byte-level shards of the repository's own docs, a
// sweep record and ledger written through the shared headers, a law fitted by `law fit`, and a
// tiny verify budget. The prediction is recorded before training, the measured loss is the run's
// final validation loss, the neighbours are trained beside it, and a rerun reuses all of it
// without training again.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "law/law_json.h"
#include "law/presets.h"
#include "support/cli_runner.h"
#include "verify/check/training_log.h"
#include "verify/check/verdict.h"
#include "verify/data/data_prepare.h"
#include "verify/sweep/ledger.h"
#include "verify/sweep/sweep_setup.h"

namespace moeplan::verify {
namespace {

using testing::run_moeplan;

std::filesystem::path prepare_shards(const testing::TempDir& dir) {
  std::string text;
  for (const char* doc : {"README.md", "docs/math.md", "man/moeplan-train.1"})
    text += testing::read_text_file(std::filesystem::path(MOEPLAN_SOURCE_DIR) / doc);
  testing::write_text_file(dir / "corpus.txt", text);
  const auto data = dir / "data";
  const auto r =
      run_moeplan({"data", "prepare", "--input", (dir / "corpus.txt").string(), "--tokenizer",
                   "bytes", "--out", data.string(), "--val-min-tokens", "8192"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return data;
}

// A dense sweep at 1e9–1e10 FLOPs whose ledger holds Hoffmann-law losses (its numbers only feed
// the fit; the run trained here is real).
std::filesystem::path write_sweep(const testing::TempDir& dir, const std::filesystem::path& data) {
  const auto sweep = dir / "sweep";
  std::filesystem::create_directories(sweep);
  SweepSetup setup;
  setup.data_dir = std::filesystem::absolute(data);
  setup.data_fingerprint = data_fingerprint(data);
  setup.vocab_size = manifest_vocab_size(data);
  setup.context = 64;
  setup.budgets_flops = {1e9, 3e9, 1e10};
  setup.experts = {1};
  setup.prior_law = law::law_to_json(law::preset_law("hoffmann2022"));
  setup.val_tokens = 4096;
  setup.device = "cpu";
  setup.moeplan_version = "test";
  write_sweep_setup(sweep, setup);
  const law::ScalingLaw truth = law::preset_law("hoffmann2022");
  int index = 0;
  for (double c : setup.budgets_flops)
    for (int k = 0; k < 4; ++k) {
      LedgerRow r;
      r.key = "run" + std::to_string(index++);
      r.budget_flops = c;
      r.params = 6e4 * std::pow(2.0, k) * std::sqrt(c / 1e9);
      r.active_params = r.params;
      r.tokens = c / (6 * r.params);
      r.experts = r.top_k = r.granularity = 1;
      r.vocab = setup.vocab_size;
      r.context = setup.context;
      r.val_loss = law::predict_loss(truth, r.params, r.tokens, 0);
      r.seconds = 1;
      r.data_fingerprint = setup.data_fingerprint;
      record_run(sweep / kLedgerFileName, r);
    }
  return sweep;
}

TEST(VerifyTrain, RecordsThePredictionTrainsAndReusesOnRerun) {
  testing::TempDir dir;
  const auto sweep = write_sweep(dir, prepare_shards(dir));
  const auto law = dir / "fit.json";
  const auto fit = run_moeplan({"law", "fit", (sweep / kLedgerFileName).string(), "--form",
                                "chinchilla", "--holdout", "none", "--starts", "coarse",
                                "--bootstrap", "5", "-o", law.string()});
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  const auto out = dir / "verify";
  const std::vector<std::string> args = {"verify",     "--sweep",  sweep.string(), "--law",
                                         law.string(), "--budget", "2e10",         "--out",
                                         out.string(), "--format", "json",         "--neighbors"};
  const auto first = run_moeplan(args);
  ASSERT_TRUE(first.exit_code == kExitVerifyPass || first.exit_code == kExitVerifyFail)
      << first.err;
  EXPECT_NE(first.err.find("prediction recorded in"), std::string::npos) << first.err;
  const auto report = nlohmann::json::parse(first.out);
  // The measured loss is the run's last validation loss, as its log has it.
  const TrainingLog log = read_training_log((out / "run" / "log.jsonl").string());
  EXPECT_DOUBLE_EQ(report.at("measured_loss").get<double>(), log.final_val_loss);
  EXPECT_GE(log.val_curve.size(), 2u);
  // --neighbors: the dense plan's only neighbour is E = 2 (K = 1), trained beside it.
  const auto& neighbors = report.at("neighbors");
  ASSERT_EQ(neighbors.size(), 2u);
  EXPECT_EQ(neighbors[0].at("planned"), true);
  EXPECT_EQ(neighbors[1].at("experts"), 2);
  EXPECT_TRUE(neighbors[1].at("measured_loss").is_number());
  EXPECT_TRUE(report.at("planned_sparsity_lowest_loss").is_boolean());
  EXPECT_TRUE(std::filesystem::exists(out / "neighbor-E2" / "result.json"));
  const std::string prediction = testing::read_text_file(out / "prediction.json");
  EXPECT_EQ(nlohmann::json::parse(prediction).at("predicted_loss"),
            report.at("prediction").at("predicted_loss"));

  const auto again = run_moeplan(args);
  EXPECT_EQ(again.exit_code, first.exit_code) << again.err;
  EXPECT_NE(again.err.find("already trained"), std::string::npos) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out).at("prediction_reused"), true);
  EXPECT_EQ(nlohmann::json::parse(again.out).at("measured_loss"), report.at("measured_loss"));
  EXPECT_EQ(testing::read_text_file(out / "prediction.json"), prediction);
}

}  // namespace
}  // namespace moeplan::verify
