// The training loop on the CPU: schedule and AdamW math, learning on real text, bit-identical
// resume, SIGINT and divergence handling, and clear errors (vocabulary, memory, data).
#include "verify/train_loop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "law/architecture.h"
#include "tests/support/cli_runner.h"
#include "util/error.h"
#include "util/files.h"
#include "verify/checkpoint.h"
#include "verify/cpu/adamw.h"
#include "verify/data/data_loader.h"
#include "verify/data/data_prepare.h"
#include "verify/data/shard.h"
#include "verify/divergence.h"
#include "verify/lr_schedule.h"
#include "verify/memory_check.h"
#include "verify/safetensors.h"

namespace moeplan::verify {
namespace {

using moeplan::testing::read_text_file;
using moeplan::testing::run_moeplan;
using moeplan::testing::TempDir;

TEST(LrSchedule, WarmupThenCosineToTenPercent) {
  const LrSchedule s{2e-3, 0.05, 0.1, 200};
  EXPECT_EQ(s.warmup_steps(), 10);
  EXPECT_DOUBLE_EQ(s.at(0), 2e-4);
  EXPECT_DOUBLE_EQ(s.at(9), 2e-3);
  EXPECT_DOUBLE_EQ(s.at(10), 2e-3);
  EXPECT_NEAR(s.at(105), 2e-4 + 1.8e-3 * 0.5, 1e-15);  // halfway through the decay
  EXPECT_NEAR(s.at(199), 2e-4, 1e-6);
  EXPECT_DOUBLE_EQ((LrSchedule{1.0, 0.0, 0.1, 1}.at(0)), 1.0);
}

TEST(AdamW, OneStepMatchesTorchSemantics) {
  // torch.optim.AdamW, step 1: p ← p(1−lr·wd) − lr·m̂/(sqrt(v̂)+ε) with m̂ = g, v̂ = g².
  float p[] = {1.0f, -2.0f}, g[] = {0.5f, -4.0f}, m[] = {0, 0}, v[] = {0, 0};
  AdamWSettings s;
  s.weight_decay = 0.1;
  adamw_update(p, g, m, v, 2, s, 0.01, 1, 1.0);
  EXPECT_NEAR(p[0], 1.0 * (1 - 0.001) - 0.01 * 0.5 / (0.5 + 1e-8), 1e-6);
  EXPECT_NEAR(p[1], -2.0 * (1 - 0.001) + 0.01, 1e-6);
  EXPECT_NEAR(m[0], 0.05, 1e-7);
  EXPECT_NEAR(v[1], 0.05 * 16, 1e-6);
  EXPECT_DOUBLE_EQ(clip_coefficient(4.0, 1.0), 1.0 / (4.0 + 1e-6));
  EXPECT_DOUBLE_EQ(clip_coefficient(0.5, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(clip_coefficient(4.0, 0.0), 1.0);
}

TEST(MemoryCheck, RefusesWithTheNumbers) {
  const auto arch = law::make_paper_architecture(1024, 12, 16, 8, 2, 1, 50432, 2048);
  const auto need = training_memory(arch, 8, "cuda");
  EXPECT_GT(need.parameter_state_bytes, 18.0 * 1e9);  // ~1.3B parameters · 18 bytes
  try {
    check_training_memory(need, 8e9, "the GPU's free memory");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("does not fit"), std::string::npos);
    EXPECT_NE(msg.find("GiB"), std::string::npos);
    EXPECT_NE(msg.find("the GPU's free memory is"), std::string::npos);
  }
  EXPECT_NO_THROW(check_training_memory(need, 1e15, "x"));
  EXPECT_GT(available_host_memory_bytes(), 0.0);
}

// Byte-level shards of this repository's own sources (util/ and law/).
class TrainOnRepoText : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new TempDir;
    DataPrepareOptions o;
    o.inputs = {std::filesystem::path(MOEPLAN_SOURCE_DIR) / "law",
                std::filesystem::path(MOEPLAN_SOURCE_DIR) / "util"};
    o.out_dir = data_->path();
    o.val_min_tokens = 8192;
    prepare_data(o);
  }
  static void TearDownTestSuite() { delete data_; }

  static TrainConfig tiny_config(const TempDir& run, std::int64_t steps) {
    TrainConfig c;
    c.arch = law::make_paper_architecture(32, 1, 2, 4, 1, 1, 256, 32);
    c.data_dir = data_->path();
    c.batch_sequences = 8;
    c.micro_batch_sequences = 4;
    c.tokens = steps * 8 * 32;
    c.peak_lr = 1e-2;
    c.val_tokens = 2048;
    c.eval_every = 20;
    c.out_dir = run / "run";
    c.log_path = run / "log.jsonl";
    c.device = "cpu";
    return c;
  }

  static std::vector<nlohmann::json> records(const std::filesystem::path& log) {
    std::vector<nlohmann::json> out;
    std::istringstream lines(read_text_file(log));
    for (std::string line; std::getline(lines, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  static TempDir* data_;
};
TempDir* TrainOnRepoText::data_ = nullptr;

TEST_F(TrainOnRepoText, CpuTrainingLowersTheValidationLoss) {
  TempDir run;
  std::ostringstream out;
  const auto outcome = train(tiny_config(run, 120), out);
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.steps_done, 120);
  EXPECT_NEAR(outcome.first_val_loss, std::log(256.0), 0.05);
  EXPECT_LT(outcome.last_val_loss, outcome.first_val_loss - 1.5) << out.str();
  const auto log = records(run / "log.jsonl");
  ASSERT_EQ(log.size(), 121u);
  EXPECT_EQ(log[0]["step"], 0);
  EXPECT_TRUE(log[0].contains("val_loss"));
  EXPECT_EQ(log[120]["step"], 120);
  EXPECT_EQ(log[120]["tokens"], 120 * 256);
  EXPECT_TRUE(log[120].contains("train_loss"));
  EXPECT_TRUE(log[20].contains("val_loss"));
  EXPECT_FALSE(log[21].contains("val_loss"));
  EXPECT_TRUE(std::filesystem::exists(run / "run" / "checkpoint.safetensors"));
}

TEST_F(TrainOnRepoText, ResumeContinuesTheSameLossCurveBitForBit) {
  TempDir straight, split;
  std::ostringstream out;
  train(tiny_config(straight, 24), out);
  auto first = tiny_config(split, 24);
  first.stop_after_steps = 12;
  EXPECT_EQ(train(first, out).steps_done, 12);
  auto second = tiny_config(split, 24);
  second.resume = split / "run";
  second.seed = 12345;  // ignored on resume: the checkpoint's seed fixes the data order
  EXPECT_EQ(train(second, out).steps_done, 24);
  const auto a = records(straight / "log.jsonl"), b = records(split / "log.jsonl");
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 1; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["train_loss"].get<double>(), b[i]["train_loss"].get<double>()) << "step " << i;
    EXPECT_EQ(a[i]["grad_norm"].get<double>(), b[i]["grad_norm"].get<double>()) << "step " << i;
  }
  EXPECT_EQ(a.back()["val_loss"].get<double>(), b.back()["val_loss"].get<double>());
}

TEST_F(TrainOnRepoText, SigintFinishesTheStepSavesAndExits130) {
  TempDir run;
  auto cfg = tiny_config(run, 50);
  auto backend = make_cpu_backend(cfg.arch, cfg.seed);
  TrainHooks hooks;
  hooks.after_step = [](std::int64_t step) {
    if (step == 3) std::raise(SIGINT);
  };
  std::ostringstream out;
  const auto outcome = run_training(cfg, *backend, out, hooks);
  EXPECT_EQ(outcome.exit_code, kExitInterrupted);
  EXPECT_EQ(outcome.steps_done, 3);
  EXPECT_NE(out.str().find("--resume"), std::string::npos);
  auto resumed = make_cpu_backend(cfg.arch, 77);
  cfg.resume = run / "run";
  cfg.stop_after_steps = 1;
  EXPECT_EQ(run_training(cfg, *resumed, out).steps_done, 4);
}

// A backend whose loss turns NaN at a given step: the loop must stop, say so, and leave the
// last good checkpoint alone.
// Wraps a backend and lets a test change the losses it reports for the step being taken
// (1-based).
class TamperedLoss : public Backend {
 public:
  using Edit = std::function<void(std::int64_t step, LossParts* loss)>;
  TamperedLoss(std::unique_ptr<Backend> inner, Edit edit)
      : inner_(std::move(inner)), edit_(std::move(edit)) {}
  std::string name() const override { return "tampered"; }
  const law::MoeArchitecture& architecture() const override { return inner_->architecture(); }
  std::vector<HostTensor> parameters() const override { return inner_->parameters(); }
  void set_parameters(const std::vector<HostTensor>& v) override { inner_->set_parameters(v); }
  std::vector<HostTensor> optimizer_moments(bool s) const override {
    return inner_->optimizer_moments(s);
  }
  void set_optimizer_state(const std::vector<HostTensor>& m, const std::vector<HostTensor>& v,
                           std::int64_t step) override {
    inner_->set_optimizer_state(m, v, step);
  }
  std::int64_t optimizer_step_count() const override { return inner_->optimizer_step_count(); }
  LossParts forward_backward(const Batch& b, double scale) override {
    LossParts p = inner_->forward_backward(b, scale);
    edit_(inner_->optimizer_step_count() + 1, &p);
    return p;
  }
  double optimizer_step(const AdamWSettings& s, double lr) override {
    return inner_->optimizer_step(s, lr);
  }
  double evaluate(const Batch& b) override { return inner_->evaluate(b); }
  std::vector<HostTensor> gradients() const override { return inner_->gradients(); }

 private:
  std::unique_ptr<Backend> inner_;
  Edit edit_;
};

// A NaN total loss from step `bad_step` on.
class NanAfter final : public TamperedLoss {
 public:
  NanAfter(std::unique_ptr<Backend> inner, int bad_step)
      : TamperedLoss(std::move(inner), [bad_step](std::int64_t step, LossParts* p) {
          if (step >= bad_step) p->total = std::nan("");
        }) {}
};

TEST_F(TrainOnRepoText, NanLossStopsWithADiagnosisAndKeepsTheLastCheckpoint) {
  TempDir run;
  auto cfg = tiny_config(run, 20);
  cfg.checkpoint_every = 4;
  NanAfter backend(make_cpu_backend(cfg.arch, 1), 7);
  std::ostringstream out;
  try {
    run_training(cfg, backend, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("diverged at step 7"), std::string::npos) << msg;
    EXPECT_NE(msg.find("training loss is nan"), std::string::npos) << msg;
    EXPECT_NE(msg.find("lr "), std::string::npos);
    EXPECT_NE(msg.find("checkpoint.safetensors (step 6 or earlier)"), std::string::npos) << msg;
  }
  auto check = make_cpu_backend(cfg.arch, 1);
  cfg.resume = run / "run";
  cfg.stop_after_steps = 1;
  EXPECT_EQ(run_training(cfg, *check, out).steps_done, 5);  // the step-4 checkpoint
}

// Runs `cfg` on `backend` expecting it to diverge; the error it raised.
TrainingDiverged divergence_of(const TrainConfig& cfg, Backend& backend) {
  std::ostringstream out;
  try {
    run_training(cfg, backend, out);
  } catch (const TrainingDiverged& e) {
    return e;
  }
  ADD_FAILURE() << "the run did not diverge";
  return TrainingDiverged(0, "", 0, 0, {}, "");
}

TEST_F(TrainOnRepoText, DivergenceIsATypedErrorWithTheStepValueAndCheckpoint) {
  TempDir run;
  auto cfg = tiny_config(run, 20);
  cfg.checkpoint_every = 4;
  NanAfter backend(make_cpu_backend(cfg.arch, 1), 7);
  const TrainingDiverged e = divergence_of(cfg, backend);
  EXPECT_EQ(e.step, 7);
  EXPECT_EQ(e.quantity, "training loss");
  EXPECT_TRUE(std::isnan(e.value));
  EXPECT_GT(e.lr, 0);
  EXPECT_EQ(e.last_good_checkpoint, run / "run" / "checkpoint.safetensors");
}

TEST(LossSpike, OneNoisyBatchIsNotASpikeALossThatStaysHighIs) {
  EXPECT_EQ(smoothed_loss(std::nan(""), 3.0), 3.0);
  EXPECT_DOUBLE_EQ(smoothed_loss(3.0, 5.0), 0.9 * 3.0 + 0.1 * 5.0);
  // The case of a sweep's smallest runs: one 64-token batch at 5.2 after a minimum of 3.4.
  double m = 3.4;
  const double min = m;
  m = smoothed_loss(m, 5.2);
  EXPECT_FALSE(is_loss_spike(40, 10, m, min, 1.5));
  for (int i = 0; i < 30; ++i) m = smoothed_loss(m, 5.5);  // diverged to the uniform loss
  EXPECT_TRUE(is_loss_spike(70, 10, m, min, 1.5));
}

TEST(LossSpike, AboveTheFactorTimesTheRunningMinimumAfterTheWarmup) {
  EXPECT_TRUE(is_loss_spike(10, 5, 3.1, 1.0, 3.0));
  EXPECT_FALSE(is_loss_spike(10, 5, 3.0, 1.0, 3.0));             // not above
  EXPECT_FALSE(is_loss_spike(4, 5, 100.0, 1.0, 3.0));            // still warming up
  EXPECT_TRUE(is_loss_spike(5, 5, 100.0, 1.0, 3.0));             // the first step after the warm-up
  EXPECT_FALSE(is_loss_spike(10, 5, 100.0, 1.0, 0.0));           // off
  EXPECT_FALSE(is_loss_spike(10, 5, 100.0, std::nan(""), 3.0));  // no minimum yet
}

TEST_F(TrainOnRepoText, LossSpikeStopsTheRunAsDiverged) {
  TempDir run;
  auto cfg = tiny_config(run, 20);
  cfg.divergence_factor = 3;
  const auto spike_from_step_9 = [](std::int64_t step, LossParts* p) {
    if (step >= 9) p->ce *= 10;
  };
  TamperedLoss backend(make_cpu_backend(cfg.arch, 1), spike_from_step_9);
  const TrainingDiverged e = divergence_of(cfg, backend);
  // The rule reads the loss smoothed with weight 0.1 a step: a tenfold loss from step 9 on lifts
  // the average past 3 × its minimum two or three steps later (m ≈ 1.9, 2.7, 3.4, 4.1 × before).
  EXPECT_GE(e.step, 11);
  EXPECT_LE(e.step, 13);
  EXPECT_EQ(e.quantity, "loss spike");
  EXPECT_TRUE(std::isfinite(e.value));
  EXPECT_TRUE(e.last_good_checkpoint.empty());
  const std::string msg = e.what();
  EXPECT_NE(msg.find("diverged at step " + std::to_string(e.step)), std::string::npos) << msg;
  EXPECT_NE(msg.find("above 3 × its running minimum"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no checkpoint was written yet"), std::string::npos) << msg;
  // Off (the default), the same losses train to the end.
  cfg.divergence_factor = 0;
  TamperedLoss again(make_cpu_backend(cfg.arch, 1), spike_from_step_9);
  std::ostringstream out;
  EXPECT_EQ(run_training(cfg, again, out).steps_done, 20);
}

TEST_F(TrainOnRepoText, CliTrainsOnCpuAndReportsBadInputs) {
  TempDir run;
  const std::string data = data_->path().string();
  auto r = run_moeplan({"train",
                        "--d-model",
                        "32",
                        "--layers",
                        "1",
                        "--heads",
                        "2",
                        "--experts",
                        "4",
                        "--context",
                        "32",
                        "--batch",
                        "4",
                        "--tokens",
                        "1280",
                        "--device",
                        "cpu",
                        "--data",
                        data,
                        "--out",
                        (run / "r").string(),
                        "--log",
                        (run / "log.jsonl").string(),
                        "--val-tokens",
                        "256"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("done: 10 steps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MFU n/a"), std::string::npos) << r.out;
  EXPECT_EQ(records(run / "log.jsonl").size(), 11u);

  // The data's vocabulary (256, manifest.json) must fit the model's.
  r = run_moeplan({"train", "--d-model", "32", "--layers", "1", "--vocab", "100", "--tokens",
                   "1000", "--device", "cpu", "--data", data, "--out", (run / "r2").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("vocabulary of 256 tokens"), std::string::npos) << r.err;
  // An architecture file (a plan's "architecture" object).
  moeplan::testing::write_text_file(run / "arch.json",
                                    R"({"architecture": {"d_model": 32, "n_layers": 1, "n_heads": 2,
                                    "experts": 4, "active_experts": 1, "granularity": 2,
                                    "vocab_size": 256, "context": 16}})");
  r = run_moeplan({"train", "--arch", (run / "arch.json").string(), "--tokens", "64", "--batch",
                   "2", "--device", "cpu", "--data", data, "--out", (run / "r3").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("d32 L1 H2 E4 K1 G2"), std::string::npos) << r.out;
  // A plan: architecture, tokens and the recipe's batch and LR.
  moeplan::testing::write_text_file(
      run / "plan.json",
      R"({"tokens": 96, "architecture": {"d_model": 32, "n_layers": 1, "n_heads": 2, "experts": 4,
      "active_experts": 2, "granularity": 1, "vocab_size": 300, "context": 16, "head_dim": 16},
      "recipe": {"warmup_fraction": 0.0, "deepseek": {"peak_lr": 0.001,
      "schedule": {"batch_sequences": 3}}}})");
  r = run_moeplan({"train", "--plan", (run / "plan.json").string(), "--device", "cpu", "--data",
                   data, "--out", (run / "r4").string(), "--log", (run / "plan.jsonl").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 steps of 48 tokens"), std::string::npos) << r.out;
  EXPECT_EQ(records(run / "plan.jsonl")[1]["lr"].get<double>(), 0.001);
  r = run_moeplan({"train", "--d-model", "32", "--layers", "1", "--tokens", "1000", "--device",
                   "cpu", "--data", (run / "missing").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no such directory"), std::string::npos) << r.err;
  r = run_moeplan({"train", "--d-model", "32", "--layers", "1", "--tokens", "1000", "--device",
                   "tpu", "--data", data});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--device"), std::string::npos);
}

// --dump-batches: (steps, batch, context+1) int32 windows.
std::vector<std::int32_t> read_int32s(const std::filesystem::path& path) {
  const std::string bytes = moeplan::read_file(path);
  std::vector<std::int32_t> out(bytes.size() / sizeof(std::int32_t));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(std::int32_t));
  return out;
}

// The window of sequence `row` of a batch: its inputs, then its last target.
std::vector<std::int32_t> window_of(const TokenBatch& b, std::int64_t row) {
  std::vector<std::int32_t> w(b.inputs.begin() + row * b.seq, b.inputs.begin() + (row + 1) * b.seq);
  w.push_back(b.targets[static_cast<std::size_t>((row + 1) * b.seq - 1)]);
  return w;
}

TEST_F(TrainOnRepoText, DumpedBatchesAreTheSamplersWindowsInOrder) {
  TempDir run;
  auto cfg = tiny_config(run, 3);  // batch 8 in micro-batches of 4, context 32
  cfg.dump_batches_path = run / "batches.bin";
  std::ostringstream out;
  EXPECT_EQ(train(cfg, out).steps_done, 3);
  const auto dumped = read_int32s(cfg.dump_batches_path);
  ASSERT_EQ(dumped.size(), 3u * 8u * 33u);
  TrainSampler sampler(WindowSet(find_shards(cfg.data_dir, "train"), 32, 256, "training"),
                       cfg.seed);
  const TokenBatch expected = sampler.batch(0, 24);
  for (std::int64_t row = 0; row < 24; ++row) {
    const auto w = window_of(expected, row);
    EXPECT_TRUE(std::equal(w.begin(), w.end(), dumped.begin() + row * 33)) << "sequence " << row;
  }
}

TEST(RandomData, WindowsArePureUniformAndShifted) {
  const TokenBatch a = random_batch(7, kRandomTrainStream, 5, 3, 16, 50);
  ASSERT_EQ(a.count, 3);
  ASSERT_EQ(a.inputs.size(), 48u);
  // A window depends on (seed, stream, index) only, not on the batch it is drawn in.
  const TokenBatch one = random_batch(7, kRandomTrainStream, 6, 1, 16, 50);
  EXPECT_EQ(window_of(one, 0), window_of(a, 1));
  EXPECT_NE(window_of(random_batch(8, kRandomTrainStream, 6, 1, 16, 50), 0), window_of(one, 0));
  EXPECT_NE(window_of(random_batch(7, kRandomValidationStream, 6, 1, 16, 50), 0),
            window_of(one, 0));
  for (std::int64_t r = 0; r < 3; ++r) {
    for (std::int64_t t = 0; t + 1 < 16; ++t)
      EXPECT_EQ(a.targets[r * 16 + t], a.inputs[r * 16 + t + 1]);
  }
  // Uniform over [0, vocab): every id appears, none outside, in 2000 windows of 16.
  const TokenBatch big = random_batch(1, kRandomTrainStream, 0, 2000, 16, 50);
  std::vector<int> seen(50, 0);
  for (const auto t : big.inputs) {
    ASSERT_GE(t, 0);
    ASSERT_LT(t, 50);
    ++seen[static_cast<std::size_t>(t)];
  }
  for (const int n : seen) EXPECT_NEAR(n, 32000 / 50, 150);
  const auto val = random_validation_batches(1, 100, 16, 50, 3);  // ceil(100/16) = 7 windows
  ASSERT_EQ(val.size(), 3u);
  EXPECT_EQ(val[2].count, 1);
  EXPECT_EQ(window_of(val[2], 0),
            window_of(random_batch(1, kRandomValidationStream, 6, 1, 16, 50), 0));
}

std::vector<std::string> random_run_args(const TempDir& run, const std::string& steps) {
  std::vector<std::string> args;
  std::istringstream words(
      "train --d-model 32 --layers 1 --heads 2 --experts 4 --context 16 --batch 4 "
      "--micro-batch 2 --device cpu --random-data --vocab 64 --val-tokens 64");
  for (std::string w; words >> w;) args.push_back(w);
  args.insert(args.end(), {"--steps", steps, "--out", (run / "r").string()});
  return args;
}

TEST(TrainCli, StepsRandomDataSummaryDumpAndSaveInit) {
  TempDir run;
  auto args = random_run_args(run, "6");
  for (const std::string a :
       {"--summary", "summary.json", "--dump-batches", "batches.bin", "--save-init",
        "init.safetensors", "--log", "log.jsonl", "--no-checkpoint"}) {
    args.push_back(a.starts_with("--") ? a : (run / a).string());
  }
  const auto r = run_moeplan(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("6 steps of 64 tokens"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no checkpoint (--no-checkpoint)"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(run / "r" / "checkpoint.safetensors"));

  const auto summary = nlohmann::json::parse(read_text_file(run / "summary.json"));
  EXPECT_EQ(summary["exit"], "done");
  EXPECT_EQ(summary["data"], "random");
  EXPECT_EQ(summary["steps_done"], 6);
  EXPECT_EQ(summary["tokens_seen"], 6 * 64);
  EXPECT_EQ(summary["start_up_steps"], 3);
  EXPECT_GT(summary["tokens_per_s"].get<double>(), 0);
  EXPECT_GT(summary["tokens_per_s_steady"].get<double>(), 0);
  EXPECT_TRUE(summary["mfu"].is_null());  // no --peak-flops on cpu
  EXPECT_NEAR(summary["first_val_loss"].get<double>(), std::log(64.0), 0.1);  // random tokens
  std::istringstream lines(read_text_file(run / "log.jsonl"));
  nlohmann::json last;
  for (std::string line; std::getline(lines, line);) last = nlohmann::json::parse(line);
  EXPECT_EQ(summary["last_train_loss"].get<double>(), last["train_loss"].get<double>());
  EXPECT_EQ(summary["last_val_loss"].get<double>(), last["val_loss"].get<double>());
  EXPECT_GT(last["step_seconds"].get<double>(), 0);

  const auto dumped = read_int32s(run / "batches.bin");
  ASSERT_EQ(dumped.size(), 6u * 4u * 17u);
  const TokenBatch expected = random_batch(1, kRandomTrainStream, 0, 24, 16, 64);
  for (std::int64_t row = 0; row < 24; ++row) {
    const auto w = window_of(expected, row);
    EXPECT_TRUE(std::equal(w.begin(), w.end(), dumped.begin() + row * 17)) << "sequence " << row;
  }

  // --save-init: the seeded initial weights, loadable with --init.
  const auto arch = law::make_paper_architecture(32, 1, 2, 4, 1, 1, 64, 16);
  const auto saved = load_initial_weights(run / "init.safetensors", arch);
  const auto initial = initial_parameters(arch, 1);
  ASSERT_EQ(saved.size(), initial.size());
  for (std::size_t i = 0; i < saved.size(); ++i) EXPECT_EQ(saved[i].data, initial[i].data);
}

TEST(TrainCli, RandomDataResumeContinuesTheDumpedBatches) {
  TempDir straight, split;
  auto args = random_run_args(straight, "4");
  args.insert(args.end(), {"--dump-batches", (straight / "b.bin").string()});
  ASSERT_EQ(run_moeplan(args).exit_code, 0);
  args = random_run_args(split, "4");
  args.insert(args.end(), {"--dump-batches", (split / "b.bin").string(), "--stop-after", "2"});
  ASSERT_EQ(run_moeplan(args).exit_code, 0);
  args = random_run_args(split, "4");
  args.insert(args.end(),
              {"--dump-batches", (split / "b.bin").string(), "--resume", (split / "r").string()});
  const auto r = run_moeplan(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_int32s(straight / "b.bin"), read_int32s(split / "b.bin"));
}

TEST(TrainCli, InfoAndBadDataOrLengthOptions) {
  TempDir run;
  auto r = run_moeplan({"train", "--info", "--device", "cpu"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("device: cpu"), std::string::npos) << r.out;
  const std::vector<std::string> model = {"train",    "--d-model", "32",
                                          "--layers", "1",         "--device",
                                          "cpu",      "--out",     (run / "r").string()};
  const auto with = [&](std::vector<std::string> extra) {
    auto a = model;
    a.insert(a.end(), extra.begin(), extra.end());
    return run_moeplan(a);
  };
  r = with({"--random-data", "--vocab", "64", "--tokens", "1000", "--steps", "2"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--tokens and --steps"), std::string::npos) << r.err;
  r = with({"--random-data", "--steps", "2"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--random-data needs --vocab"), std::string::npos) << r.err;
  r = with({"--random-data", "--vocab", "64", "--data", run.path().string(), "--steps", "2"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("either --data or --random-data"), std::string::npos) << r.err;
  r = with({"--vocab", "64", "--steps", "2"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("give --data DIR"), std::string::npos) << r.err;
  r = with({"--random-data", "--vocab", "64"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--tokens N or --steps N"), std::string::npos) << r.err;
  r = with({"--random-data", "--vocab", "64", "--steps", "1", "--summary",
            (run / "missing-dir" / "s.json").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("missing-dir"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(run / "r" / "checkpoint.safetensors"));  // before training
}

}  // namespace
}  // namespace moeplan::verify
