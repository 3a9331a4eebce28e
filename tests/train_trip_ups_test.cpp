// What a first-time user tripped on with `train` and `data prepare` (issue 12, item 6): a resumed
// finished run, a resume that would change the schedule, a missing data directory, directories
// left behind by failed commands, an ETA without validation time, and JSON errors that leaked
// nlohmann's exception text.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "planner/hf_config.h"
#include "tests/support/cli_runner.h"
#include "tests/support/expect_error.h"
#include "util/json_text.h"
#include "verify/training_report.h"

namespace moeplan::verify {
namespace {

using moeplan::testing::error_of;
using moeplan::testing::read_text_file;
using moeplan::testing::run_moeplan;
using moeplan::testing::TempDir;
using moeplan::testing::write_text_file;

// A tiny CPU run on random tokens: `batch` sequences of 16 tokens, `steps` steps, checkpoints in
// `out`.
std::vector<std::string> tiny_run(const std::filesystem::path& out, const std::string& steps,
                                  const std::vector<std::string>& extra = {},
                                  const std::string& batch = "4") {
  std::vector<std::string> args;
  std::istringstream words(
      "train --d-model 32 --layers 1 --heads 2 --experts 4 --context 16 "
      "--device cpu --random-data --vocab 64 --val-tokens 64");
  for (std::string w; words >> w;) args.push_back(w);
  args.insert(args.end(), {"--batch", batch, "--steps", steps, "--out", out.string()});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(TrainResume, AFinishedRunReportsItsValidationLossAsUnmeasured) {
  TempDir dir;
  ASSERT_EQ(run_moeplan(tiny_run(dir / "r", "2")).exit_code, 0);
  const auto r = run_moeplan(tiny_run(
      dir / "r", "2", {"--resume", (dir / "r").string(), "--summary", (dir / "s.json").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("val_loss 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing left to train"), std::string::npos) << r.out;
  const auto summary = nlohmann::json::parse(read_text_file(dir / "s.json"));
  EXPECT_TRUE(summary["last_val_loss"].is_null()) << summary.dump();
  EXPECT_TRUE(summary["first_val_loss"].is_null()) << summary.dump();
  EXPECT_EQ(summary["steps_this_run"], 0);
}

TEST(TrainResume, ALengthOrBatchOtherThanTheCheckpointsIsRefusedByName) {
  TempDir dir;
  ASSERT_EQ(run_moeplan(tiny_run(dir / "r", "4", {"--stop-after", "1"})).exit_code, 0);
  const std::vector<std::string> resume = {"--resume", (dir / "r").string()};
  auto r = run_moeplan(tiny_run(dir / "r", "8", resume));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("steps (--tokens/--steps) 4 -> 8"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("schedule"), std::string::npos) << r.err;
  auto with_batch = resume;
  with_batch.insert(with_batch.end(), {"--lr", "0.001"});
  r = run_moeplan(tiny_run(dir / "r", "4", with_batch, "8"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--batch 4 -> 8"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--lr 0.002 -> 0.001"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  // Splitting the same batch differently keeps the schedule: allowed.
  auto with_micro_batch = resume;
  with_micro_batch.insert(with_micro_batch.end(), {"--micro-batch", "2"});
  r = run_moeplan(tiny_run(dir / "r", "4", with_micro_batch));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("done: 4 steps"), std::string::npos) << r.out;
}

TEST(TrainData, AMissingDataDirectoryIsNamedAsSuch) {
  TempDir dir;
  const auto r =
      run_moeplan({"train", "--d-model", "32", "--layers", "1", "--tokens", "1000", "--device",
                   "cpu", "--data", (dir / "nonexistent").string(), "--out", (dir / "r").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nonexistent: no such directory"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("manifest.json"), std::string::npos) << r.err;
}

TEST(FailedCommands, RemoveTheOutputDirectoryTheyCreatedButNoOtherOne) {
  TempDir dir;
  // data prepare fails on its input after creating --out (and a parent).
  auto r = run_moeplan({"data", "prepare", "--input", (dir / "nope").string(), "--out",
                        (dir / "new" / "data").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir / "new")) << r.err;
  // train fails on its data after creating --out.
  const std::vector<std::string> no_data = {"train",
                                            "--d-model",
                                            "32",
                                            "--layers",
                                            "1",
                                            "--tokens",
                                            "1000",
                                            "--device",
                                            "cpu",
                                            "--vocab",
                                            "64",
                                            "--data",
                                            (dir / "nope").string()};
  auto args = no_data;
  args.insert(args.end(), {"--out", (dir / "run" / "r").string()});
  r = run_moeplan(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no such directory"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "run")) << r.err;
  // A directory that existed stays, empty or not.
  std::filesystem::create_directory(dir / "mine");
  args = no_data;
  args.insert(args.end(), {"--out", (dir / "mine").string()});
  EXPECT_EQ(run_moeplan(args).exit_code, 1);
  EXPECT_TRUE(std::filesystem::is_directory(dir / "mine"));
  r = run_moeplan(
      {"data", "prepare", "--input", (dir / "nope").string(), "--out", (dir / "mine").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(std::filesystem::is_directory(dir / "mine"));
}

TEST(TrainEta, CountsTheValidationsLeftAtTheirMeasuredTime) {
  EXPECT_EQ(validations_left(10, 30, 10), 2);  // at 20 and 30
  EXPECT_EQ(validations_left(29, 30, 10), 1);
  EXPECT_EQ(validations_left(30, 30, 10), 0);
  EXPECT_EQ(validations_left(0, 25, 10), 3);  // at 10, 20 and the last step, 25
  RunStats stats;
  stats.steps_this_run = 10;
  stats.train_seconds = 10;  // 1 s a step
  stats.validations = 2;
  stats.validation_seconds = 20;  // 10 s a validation
  stats.last_lr = 1e-3;
  EXPECT_DOUBLE_EQ(estimated_seconds_left(stats, 10, 30, 10), 20 + 2 * 10);
  TrainingState state;
  state.step = 10;
  const std::string line =
      status_line(state, 30, stats, false, 64, 1e6, 0, estimated_seconds_left(stats, 10, 30, 10));
  EXPECT_NE(line.find("ETA 40s"), std::string::npos) << line;
}

// No nlohmann exception text and no long echo of the input, in one line naming the file.
void expect_clean_json_error(const std::string& message, const std::string& where) {
  EXPECT_NE(message.find(where), std::string::npos) << message;
  EXPECT_EQ(message.find("json.exception"), std::string::npos) << message;
  EXPECT_EQ(message.find("last read"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), message.size() - 1) << message;  // ends the one line
  EXPECT_LT(message.size(), 300u) << message;                    // the temporary path included
}

TEST(JsonErrors, ArchitecturePlanManifestAndHfConfigSayWhatIsWrongInOneLine) {
  TempDir dir;
  const std::string long_text(5000, 'x');
  write_text_file(dir / "bad.json", "{\"d_model\": 32,\n  \"n_layers\": tru }");
  write_text_file(dir / "long.json", "{\"d_model\": \"" + long_text + "\n\"}");
  write_text_file(dir / "string.json", "{\"d_model\": \"" + long_text + "\"}");
  const std::vector<std::string> train = {"train", "--tokens",      "64",      "--device",
                                          "cpu",   "--random-data", "--vocab", "64"};
  for (const auto* file : {"bad.json", "long.json", "string.json"}) {
    for (const auto* option : {"--arch", "--plan"}) {
      auto args = train;
      args.insert(args.end(), {option, (dir / file).string(), "--out", (dir / "r").string()});
      const auto r = run_moeplan(args);
      EXPECT_EQ(r.exit_code, 1);
      expect_clean_json_error(r.err, file);
    }
  }
  auto r = run_moeplan({"train", "--arch", (dir / "bad.json").string(), "--tokens", "64",
                        "--device", "cpu", "--random-data", "--vocab", "64"});
  EXPECT_NE(r.err.find("bad.json is not valid JSON: at line 2, column"), std::string::npos)
      << r.err;
  std::filesystem::create_directory(dir / "data");
  write_text_file(dir / "data" / "manifest.json", "{\"vocab_size\": " + long_text);
  r = run_moeplan({"train", "--d-model", "32", "--layers", "1", "--tokens", "64", "--device", "cpu",
                   "--data", (dir / "data").string()});
  EXPECT_EQ(r.exit_code, 1);
  expect_clean_json_error(r.err, "manifest.json");
  const std::string hf = error_of([&] {
    planner::read_hf_config("{\"model_type\": \"mixtral\", \"x\": \"" + long_text + "\n\"}",
                            "config.json");
  });
  expect_clean_json_error(hf + "\n", "config.json is not valid JSON");
  EXPECT_EQ(error_of([] { parse_json_text("[1, 2]", "x"); }), "");
}

}  // namespace
}  // namespace moeplan::verify
