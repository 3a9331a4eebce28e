// The sweep's shared records: SWEEP/sweep.json (round trip, identity), the data fingerprint, a
// run's training configuration from the recipe rule, and the ledger SWEEP/runs.csv (replace by
// key, diverged rows with empty losses, strict parsing, concurrent writers in several processes).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <limits>
#include <set>

#include "law/architecture.h"
#include "planner/recipe.h"
#include "tests/support/cli_runner.h"
#include "tests/support/expect_error.h"
#include "verify/data/shard.h"
#include "verify/sweep/ledger.h"
#include "verify/sweep/sweep_setup.h"

namespace moeplan::verify {
namespace {

using moeplan::testing::error_of;
using moeplan::testing::read_text_file;
using moeplan::testing::TempDir;
using moeplan::testing::write_text_file;

LedgerRow sample_row(const std::string& key, double loss) {
  LedgerRow r;
  r.key = key;
  r.budget_flops = 1e13;
  r.params = 123456;
  r.active_params = 65432;
  r.tokens = 1.5e7;
  r.sparsity = 0.75;
  r.d_model = 64, r.layers = 2, r.heads = 2, r.experts = 4, r.top_k = 1, r.granularity = 1;
  r.vocab = 256, r.context = 64, r.batch_sequences = 8;
  r.peak_lr = 0.0123;
  r.seed = 7;
  r.steps = 200;
  r.val_loss = loss;
  r.train_loss = loss + 0.1;
  r.tokens_per_s = 12345.6;
  r.seconds = 3.5;
  r.data_fingerprint = "0123456789abcdef";
  r.moeplan_version = "0.1.0";
  return r;
}

TEST(SweepLedger, RoundTripsAndReplacesByKey) {
  TempDir dir;
  const auto ledger = dir / "runs.csv";
  EXPECT_TRUE(read_ledger(ledger).empty());
  record_run(ledger, sample_row("aaaa", 2.5));
  record_run(ledger, sample_row("bbbb", 2.25));
  LedgerRow retry = sample_row("aaaa", 2.125);
  retry.seed = 8;
  record_run(ledger, retry);
  const auto rows = read_ledger(ledger);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].key, "aaaa");
  EXPECT_EQ(rows[0].seed, 8u);
  EXPECT_DOUBLE_EQ(*rows[0].val_loss, 2.125);
  EXPECT_DOUBLE_EQ(rows[1].peak_lr, 0.0123);
  EXPECT_DOUBLE_EQ(rows[1].tokens_per_s, 12345.6);
  EXPECT_EQ(rows[1].experts, 4);
  const std::string text = read_text_file(ledger);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "key,status,C,N,N_active,D,S,d_model,layers,heads,E,K,G,vocab,context,batch,lr,seed,"
            "steps,val_loss,train_loss,tokens_per_s,seconds,data_fingerprint,moeplan_version");
}

TEST(SweepLedger, DivergedRowsHaveEmptyLossCells) {
  TempDir dir;
  const auto ledger = dir / "runs.csv";
  LedgerRow row = sample_row("cccc", 0);
  row.status = RunStatus::kDiverged;
  row.val_loss.reset();
  row.train_loss.reset();
  record_run(ledger, row);
  const std::string text = read_text_file(ledger);
  EXPECT_NE(text.find(",diverged,"), std::string::npos);
  EXPECT_NE(text.find(",200,,,"), std::string::npos) << text;
  const auto rows = read_ledger(ledger);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, RunStatus::kDiverged);
  EXPECT_FALSE(rows[0].val_loss.has_value());
}

TEST(SweepLedger, MalformedCellsNameFileAndLine) {
  TempDir dir;
  const auto ledger = dir / "runs.csv";
  record_run(ledger, sample_row("aaaa", 2.5));
  std::string text = read_text_file(ledger);
  write_text_file(ledger, text + "dddd,ok,1e13x" + text.substr(text.rfind(",1e+13") + 6));
  EXPECT_NE(error_of([&] { read_ledger(ledger); }).find("runs.csv:3"), std::string::npos);
  write_text_file(ledger, text + "eeee,ok,1e13\n");
  EXPECT_NE(error_of([&] { read_ledger(ledger); }).find("expected 25 cells"), std::string::npos);
  write_text_file(ledger, "a,b\n");
  EXPECT_NE(error_of([&] { read_ledger(ledger); }).find("not a sweep ledger"), std::string::npos);
}

// The writer refuses what the reader would: an ok row without a finite val_loss (a NaN cell
// would make the whole ledger unreadable), and the ledger is left as it was.
TEST(SweepLedger, RefusesNonFiniteCellsAndLeavesTheLedgerReadable) {
  TempDir dir;
  const auto ledger = dir / "runs.csv";
  record_run(ledger, sample_row("aaaa", 2.5));
  const std::string before = read_text_file(ledger);
  EXPECT_NE(error_of([&] {
              record_run(ledger, sample_row("bbbb", std::nan("")));
            }).find("val_loss cannot hold nan"),
            std::string::npos);
  LedgerRow no_loss = sample_row("cccc", 1);
  no_loss.val_loss.reset();
  EXPECT_NE(error_of([&] { record_run(ledger, no_loss); }).find("an ok run needs a val_loss"),
            std::string::npos);
  LedgerRow infinite = sample_row("dddd", 1);
  infinite.tokens_per_s = std::numeric_limits<double>::infinity();
  EXPECT_NE(error_of([&] { record_run(ledger, infinite); }).find("tokens_per_s cannot hold inf"),
            std::string::npos);
  EXPECT_EQ(read_text_file(ledger), before);
  EXPECT_EQ(read_ledger(ledger).size(), 1u);
}

// Several processes record at once, each its own keys plus one shared key: every row survives,
// none is split or duplicated (flock + atomic rewrite).
TEST(SweepLedger, ConcurrentWritersFromSeveralProcesses) {
  TempDir dir;
  const auto ledger = dir / "runs.csv";
  constexpr int kProcesses = 4, kRowsEach = 15;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        for (int i = 0; i < kRowsEach; ++i) {
          record_run(ledger, sample_row("p" + std::to_string(p) + "r" + std::to_string(i), i));
          record_run(ledger, sample_row("shared", p));
        }
      } catch (...) {
        code = 1;
      }
      ::_exit(code);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  const auto rows = read_ledger(ledger);
  std::set<std::string> keys;
  for (const auto& r : rows) keys.insert(r.key);
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(kProcesses * kRowsEach + 1));
  EXPECT_EQ(keys.size(), rows.size());
}

SweepSetup sample_setup(const std::filesystem::path& data_dir) {
  SweepSetup s;
  s.data_dir = data_dir;
  s.data_fingerprint = "feedfacecafebeef";
  s.vocab_size = 256;
  s.context = 64;
  s.budgets_flops = {1e12, 3e12};
  s.experts = {1, 4};
  s.prior_law = {{"name", "x"}};
  s.moeplan_version = "0.1.0";
  return s;
}

TEST(SweepSetup, RoundTripsAndIdentityIgnoresVersionDeviceAndPlace) {
  TempDir dir;
  const SweepSetup s = sample_setup(dir / "data");
  write_sweep_setup(dir.path(), s);
  const SweepSetup back = read_sweep_setup(dir.path());
  EXPECT_EQ(back.to_json(), s.to_json());
  SweepSetup other = back;
  other.moeplan_version = "9.9.9";
  other.device = "cuda";
  other.data_dir = "/elsewhere";
  EXPECT_EQ(other.identity(), s.identity());
  other.lr_scale = 2;
  EXPECT_NE(other.identity(), s.identity());
  EXPECT_NE(error_of([&] { read_sweep_setup(dir / "data"); }).find("not a sweep directory"),
            std::string::npos);
  write_text_file(dir / "sweep.json", "{\"format\": \"other\"}");
  EXPECT_NE(error_of([&] { read_sweep_setup(dir.path()); }).find("not a moeplan sweep record"),
            std::string::npos);
}

TEST(SweepSetup, DataFingerprintFollowsTheShardsContents) {
  TempDir dir;
  write_shard(dir / "d_train_000000.bin", {1, 2, 3, 4, 5}, false);
  write_shard(dir / "d_val_000000.bin", {6, 7}, false);
  const std::string a = data_fingerprint(dir.path());
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(data_fingerprint(dir.path()), a);
  write_shard(dir / "d_val_000000.bin", {6, 8}, false);
  EXPECT_NE(data_fingerprint(dir.path()), a);
}

TEST(SweepSetup, RunConfigFollowsTheRecipeRuleWithTheStepFloor) {
  TempDir dir;
  SweepSetup s = sample_setup(dir / "data");
  s.lr_scale = 0.5;
  const auto arch = law::make_paper_architecture(256, 4, 4, 4, 1, 1, 999, 999);
  const TrainConfig c = run_train_config(s, arch, 1e13, 42, dir / "run");
  EXPECT_EQ(c.arch.vocab_size, 256);
  EXPECT_EQ(c.arch.context, 64);
  const double active = static_cast<double>(law::count_params(c.arch).active);
  EXPECT_NEAR(static_cast<double>(c.tokens), 1e13 / (6 * active), 1);
  // The DeepSeek batch (0.2920·C^0.3271 ≈ 5.2k tokens = 82 sequences) would give ~80 steps of
  // this 4M-active model: the floor shrinks it so that there are at least 200.
  const planner::BatchSchedule unfloored =
      planner::batch_schedule(planner::deepseek_batch_tokens(1e13), 1e13 / (6 * active), 64);
  EXPECT_LT(unfloored.steps, 200);
  EXPECT_GE(c.total_steps(), 200);
  EXPECT_LT(c.batch_sequences, unfloored.batch_sequences);
  EXPECT_EQ(c.batch_sequences, c.tokens / (200 * 64));
  EXPECT_DOUBLE_EQ(c.peak_lr, 0.5 * planner::deepseek_peak_lr(1e13));
  EXPECT_DOUBLE_EQ(c.warmup_fraction, planner::kWarmupFraction);
  EXPECT_EQ(c.seed, 42u);
  EXPECT_EQ(c.checkpoint_every, c.total_steps() / 10);
  EXPECT_EQ(c.log_path, dir / "run" / "log.jsonl");
  EXPECT_NO_THROW(c.validate());
}

TEST(Recipe, StepFloorShrinksTheDeepSeekBatchAndSaysSo) {
  const planner::Recipe r = planner::make_recipe(1e13, 1e6, 64);
  EXPECT_TRUE(r.deepseek.floored);
  EXPECT_GE(r.deepseek.steps, planner::kMinSteps);
  EXPECT_EQ(r.deepseek.batch_sequences, 1000000 / (200 * 64));
  const planner::Recipe big = planner::make_recipe(1e21, 1.5e11, 2048);
  EXPECT_FALSE(big.deepseek.floored);
  // Fewer tokens than 200 sequences: batch 1 and fewer steps (the sweep refuses such runs).
  const planner::Recipe tiny = planner::make_recipe(1e13, 1000, 64);
  EXPECT_EQ(tiny.deepseek.batch_sequences, 1);
  EXPECT_LT(tiny.deepseek.steps, planner::kMinSteps);
}

}  // namespace
}  // namespace moeplan::verify
