// `moeplan sweep` end to end on the CPU, on a tiny byte-level corpus made from the repository's
// own text: a sweep trains every run once (one ok ledger row each), a rerun trains nothing, a
// sweep killed with SIGKILL mid-run resumes to the same rows, a diverging run is retried once and
// recorded with empty losses, the dry run writes nothing, and bad input is refused with one line.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "tests/support/cli_runner.h"
#include "verify/sweep/ledger.h"
#include "verify/sweep/run_list.h"

namespace moeplan::verify {
namespace {

namespace fs = std::filesystem;
using moeplan::testing::read_text_file;
using moeplan::testing::run_moeplan;
using moeplan::testing::TempDir;

class SweepCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new TempDir();
    const std::string src = MOEPLAN_SOURCE_DIR;
    const auto r =
        run_moeplan({"data", "prepare", "--tokenizer", "bytes", "--input", src + "/README.md",
                     src + "/docs", src + "/man", "--out", data_->path().string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { delete data_; }

  // A tiny sweep: two budgets, dense and E = 2, two sizes; d <= 64 models of ~200 steps.
  static std::vector<std::string> sweep_args(const fs::path& out,
                                             std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"sweep",     "--data",    data_->path().string(),
                                     "--budgets", "1e10,2e10", "--sparsities",
                                     "0,0.5",     "--sizes",   "2",
                                     "--context", "64",        "--val-tokens",
                                     "2048",      "--device",  "cpu",
                                     "--jobs",    "2",         "--out",
                                     out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  static TempDir* data_;
};
TempDir* SweepCli::data_ = nullptr;

// Every run of runs.json has exactly one ledger row, all with `status`.
void expect_one_row_per_run(const fs::path& sweep, RunStatus status) {
  const auto runs = read_run_list(sweep);
  const auto rows = read_ledger(sweep / "runs.csv");
  ASSERT_GE(runs.size(), 4u);
  EXPECT_EQ(rows.size(), runs.size());
  std::set<std::string> keys;
  for (const auto& r : rows) {
    EXPECT_TRUE(keys.insert(r.key).second) << "duplicate row " << r.key;
    EXPECT_EQ(r.status, status) << r.key;
    EXPECT_GE(r.steps, 200);
    EXPECT_EQ(r.vocab, 256);
    EXPECT_EQ(r.context, 64);
  }
  for (const auto& run : runs) EXPECT_TRUE(keys.count(run.key)) << run.key;
}

pid_t start_moeplan(const std::vector<std::string>& args, const fs::path& log) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(fd, STDOUT_FILENO);
  ::dup2(fd, STDERR_FILENO);
  std::vector<char*> argv = {const_cast<char*>(MOEPLAN_BINARY)};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(MOEPLAN_BINARY, argv.data());
  ::_exit(127);
}

// A run directory with a checkpoint whose run has no ledger row yet (mid-run), or "".
fs::path checkpointed_unfinished_run(const fs::path& sweep) {
  std::error_code ec;
  if (!fs::exists(sweep / "runs", ec)) return {};
  std::set<std::string> done;
  try {
    for (const auto& r : read_ledger(sweep / "runs.csv")) done.insert(r.key);
  } catch (...) {
  }
  for (const auto& entry : fs::directory_iterator(sweep / "runs", ec))
    if (fs::exists(entry.path() / "checkpoint.safetensors", ec) &&
        !done.count(entry.path().filename().string()))
      return entry.path();
  return {};
}

// Waits until no process holds the run's claim (the killed sweep's workers have exited).
bool wait_for_claim_released(const fs::path& lock) {
  for (int i = 0; i < 300; ++i) {
    const int fd = ::open(lock.c_str(), O_RDWR);
    const bool free = fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (fd >= 0) ::close(fd);
    if (free) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// A sweep killed with SIGKILL mid-run: its workers checkpoint and exit (PR_SET_PDEATHSIG), the
// rerun resumes them and ends with one ok row per run; a third run trains nothing.
TEST_F(SweepCli, ASweepKilledMidRunResumesToTheSameRowsAndARerunTrainsNothing) {
  TempDir dir;
  const fs::path sweep = dir / "sweep";
  const pid_t pid = start_moeplan(sweep_args(sweep), dir / "killed.log");
  fs::path run;
  for (int i = 0; i < 600 && run.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    run = checkpointed_unfinished_run(sweep);
  }
  ASSERT_FALSE(run.empty()) << read_text_file(dir / "killed.log");
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(wait_for_claim_released(run.string() + ".lock"));
  const auto rows_after_kill = read_ledger(sweep / "runs.csv");
  EXPECT_LT(rows_after_kill.size(), read_run_list(sweep).size());

  const auto resumed = run_moeplan(sweep_args(sweep));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  expect_one_row_per_run(sweep, RunStatus::kOk);
  EXPECT_NE(read_text_file(run / "train.out").find("resumed from"), std::string::npos);
  EXPECT_NE(resumed.err.find("] C 1.00e+10"), std::string::npos) << resumed.err;
  for (const auto& r : read_ledger(sweep / "runs.csv")) {
    EXPECT_GT(*r.val_loss, 0.5);
    EXPECT_LT(*r.val_loss, 5.6);  // below ln 256: it learned something
    EXPECT_TRUE(fs::exists(sweep / "runs" / r.key / "log.jsonl"));
    EXPECT_TRUE(fs::exists(sweep / "runs" / r.key / "summary.json"));
  }
  const std::string ledger = read_text_file(sweep / "runs.csv");
  const auto again = run_moeplan(sweep_args(sweep));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err.find("runs to train"), std::string::npos) << again.err;
  EXPECT_EQ(read_text_file(sweep / "runs.csv"), ledger);
  // The rows recorded before the kill are kept as they were.
  for (const auto& before : rows_after_kill)
    for (const auto& after : read_ledger(sweep / "runs.csv"))
      if (after.key == before.key) {
        EXPECT_EQ(*after.val_loss, *before.val_loss);
      }
}

TEST_F(SweepCli, ADivergingRunIsRetriedOnceThenKeptAsDiverged) {
  TempDir dir;
  const fs::path sweep = dir / "sweep";
  auto args = sweep_args(sweep, {"--lr-scale", "1e30"});
  args[4] = "1e10";  // one budget
  args[6] = "0.5";   // one sparsity
  const auto r = run_moeplan(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto rows = read_ledger(sweep / "runs.csv");
  ASSERT_FALSE(rows.empty());
  for (const auto& row : rows) {
    EXPECT_EQ(row.status, RunStatus::kDiverged);
    EXPECT_FALSE(row.val_loss.has_value());
    EXPECT_TRUE(fs::exists(sweep / "runs" / (row.key + "-retry")));
  }
  EXPECT_NE(read_text_file(sweep / "runs.csv").find(",diverged,"), std::string::npos);
}

TEST_F(SweepCli, DryRunPrintsTheGridAndWritesNothing) {
  TempDir dir;
  const fs::path sweep = dir / "sweep";
  const auto table = run_moeplan(sweep_args(sweep, {"--dry-run"}));
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("architecture"), std::string::npos);
  EXPECT_NE(table.out.find("a timing of"), std::string::npos) << table.out;
  const auto json = run_moeplan(sweep_args(sweep, {"--dry-run", "--format", "json"}));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto j = nlohmann::json::parse(json.out);
  ASSERT_GE(j["runs"].size(), 4u);
  for (const auto& run : j["runs"]) {
    EXPECT_GE(run["steps"].get<int>(), 200);
    EXPECT_GT(run["estimated_seconds"].get<double>(), 0);
    EXPECT_LE(run["architecture"]["d_model"].get<int>(), 64);
  }
  EXPECT_GT(j["total_flops"].get<double>(), 4e10);
  EXPECT_FALSE(fs::exists(sweep));
}

TEST_F(SweepCli, RefusalsAreOneLineAndWriteNothing) {
  TempDir dir;
  const fs::path sweep = dir / "sweep";
  const auto refuse = [&](std::vector<std::string> args, const std::string& message) {
    const auto r = run_moeplan(args);
    EXPECT_EQ(r.exit_code, 1) << message;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  };
  auto args = sweep_args(sweep);
  args[4] = "2e10,1e10";
  refuse(args, "strictly increasing");
  args[4] = "1e6,1e10";
  refuse(args, "is too small");
  args = sweep_args(sweep);
  args[2] = (dir / "empty").string();
  fs::create_directories(dir / "empty");
  refuse(args, "no training shards");
  EXPECT_FALSE(fs::exists(sweep));
  // An existing sweep (emit-slurm records it without training) refuses another configuration
  // and other data.
  ASSERT_EQ(run_moeplan(sweep_args(sweep, {"--emit-slurm", (dir / "a.sh").string()})).exit_code, 0);
  const std::string setup = read_text_file(sweep / "sweep.json");
  refuse(sweep_args(sweep, {"--lr-scale", "2"}), "records another sweep configuration");
  const std::string src = MOEPLAN_SOURCE_DIR;
  ASSERT_EQ(run_moeplan({"data", "prepare", "--tokenizer", "bytes", "--input", src + "/docs",
                         "--out", (dir / "other").string()})
                .exit_code,
            0);
  args = sweep_args(sweep);
  args[2] = (dir / "other").string();
  refuse(args, "was swept on other data");
  EXPECT_EQ(read_text_file(sweep / "sweep.json"), setup);
  EXPECT_FALSE(fs::exists(sweep / "runs.csv"));
}

}  // namespace
}  // namespace moeplan::verify
