// Kill at any moment (issue 13): `moeplan train` (CPU, a tiny model on random tokens, a
// checkpoint every step) and `moeplan sweep` (a tiny CPU sweep) are killed with SIGKILL at
// moments drawn from a seeded RNG — after a random delay over the whole run (start-up
// included), or right as a checkpoint, summary or ledger write begins — and started again until
// they finish. After every kill whatever checkpoint and ledger exist must read back; at the end
// the checkpoint must equal an uninterrupted run's byte for byte, and the ledger must hold
// exactly the uninterrupted sweep's rows (timings aside). Each kill first freezes the process
// (SIGSTOP) to see whether it was writing (a temporary file of the atomic writer open), so the
// figures say how many kills cut a write.
//
// MOEPLAN_KILL_TRAIN_TRIALS, MOEPLAN_KILL_SWEEP_TRIALS and MOEPLAN_KILL_SEED run more (or other)
// trials by hand; the figures are printed at the end of each test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "planner/architecture_json.h"
#include "tests/support/cli_runner.h"
#include "tests/support/kill_trials.h"
#include "util/error.h"
#include "verify/backend.h"
#include "verify/checkpoint.h"
#include "verify/safetensors.h"
#include "verify/sweep/ledger.h"

namespace moeplan::verify {
namespace {

namespace fs = std::filesystem;
using moeplan::testing::read_text_file;
using moeplan::testing::run_moeplan;
using moeplan::testing::TempDir;
using Clock = std::chrono::steady_clock;

constexpr int kDefaultTrainTrials = 24;
constexpr int kDefaultSweepTrials = 3;
constexpr int kMaxKillsPerTrial = 3;

struct KillFigures {
  int trials = 0, survived = 0, kills = 0, kills_mid_write = 0, temp_files_left = 0;
  int kills_aimed_at_writes = 0, resumed_starts = 0, fresh_starts = 0, worker_kills = 0;
  std::string report(const std::string& what) const {
    std::ostringstream s;
    s << what << ": " << survived << " of " << trials << " trials survived; " << kills
      << " SIGKILLs (" << kills_mid_write << " mid-write, " << kills_aimed_at_writes
      << " aimed at a write, " << worker_kills << " of a single worker); " << temp_files_left
      << " temporary files left by kills; " << resumed_starts << " restarts from a checkpoint, "
      << fresh_starts << " from scratch";
    return s.str();
  }
};

std::uint64_t kill_seed() {
  return static_cast<std::uint64_t>(testing::trials_from_env("MOEPLAN_KILL_SEED", 1));
}

// Reads a checkpoint as --resume would, on a CPU backend of its own architecture; the error
// message when it cannot, "" when it can. `step` gets its step.
std::string checkpoint_error(const fs::path& file, std::int64_t* step) {
  try {
    const SafetensorsContent content = read_safetensors(file);
    const auto arch_it = content.metadata.find("architecture");
    if (arch_it == content.metadata.end()) return file.string() + ": no architecture metadata";
    const auto arch =
        planner::architecture_from_json(nlohmann::json::parse(arch_it->second), file.string());
    auto backend = make_cpu_backend(arch, 1);
    *step = load_checkpoint(file, *backend).step;
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::size_t count_temp_files(const fs::path& dir) {
  return testing::temp_files_under(dir).size();
}

// ---- train ----------------------------------------------------------------------------------

constexpr int kTrainSteps = 30;

class TrainKills {
 public:
  explicit TrainKills(const TempDir& dir) : run_(dir / "run"), log_(dir / "train.log") {}

  std::vector<std::string> args(bool resume) const {
    std::vector<std::string> a;
    std::istringstream words(
        "train --d-model 32 --layers 2 --heads 2 --experts 4 --context 16 --batch 4 "
        "--micro-batch 2 --device cpu --random-data --vocab 256 --val-tokens 64 "
        "--checkpoint-every 1");
    for (std::string w; words >> w;) a.push_back(w);
    a.insert(a.end(), {"--steps", std::to_string(kTrainSteps), "--out", run_.string()});
    if (resume) a.insert(a.end(), {"--resume", run_.string()});
    return a;
  }

  // The uninterrupted run: its final checkpoint and its wall time (start-up included).
  void run_reference() {
    fs::remove_all(run_);
    const auto start = Clock::now();
    const auto r = run_moeplan(args(false));
    seconds_ = std::chrono::duration<double>(Clock::now() - start).count();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    reference_ = read_text_file(checkpoint());
    ASSERT_FALSE(reference_.empty());
    fs::rename(run_, run_.string() + "-reference");  // kept for a look when a trial fails
  }

  // Kills the run 1 to kMaxKillsPerTrial times, restarting it after each (from its checkpoint
  // when there is one), then lets it finish.
  void trial(std::mt19937_64& rng, KillFigures* figures) {
    fs::remove_all(run_);
    ++figures->trials;
    last_step_ = 0;
    const int kills = std::uniform_int_distribution<int>(1, kMaxKillsPerTrial)(rng);
    for (int k = 0; k < kills; ++k) {
      const bool resume = fs::exists(checkpoint());
      ++(resume ? figures->resumed_starts : figures->fresh_starts);
      if (!start_and_kill(rng, resume, figures)) break;  // it finished first
      check_after_kill();
      if (::testing::Test::HasFailure()) return;
    }
    const bool resume = fs::exists(checkpoint());
    ++(resume ? figures->resumed_starts : figures->fresh_starts);
    const auto r = run_moeplan(args(resume));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const bool same = read_text_file(checkpoint()) == reference_;
    EXPECT_TRUE(same) << "the final checkpoint differs from the uninterrupted run's";
    figures->survived += same;
  }

 private:
  fs::path checkpoint() const { return run_ / kCheckpointFileName; }

  // One invocation, killed after a delay drawn over what is left of the reference run's wall
  // time: half the time right then, half the time as the next checkpoint write begins. False
  // when the run ended before the moment came (it must then have succeeded).
  bool start_and_kill(std::mt19937_64& rng, bool resume, KillFigures* figures) {
    const std::size_t temp_before = count_temp_files(run_);
    const double left = static_cast<double>(kTrainSteps - last_step_) / kTrainSteps;
    const double delay =
        std::uniform_real_distribution<double>(0, seconds_ * std::max(0.25, left))(rng);
    const bool at_write = std::bernoulli_distribution(0.5)(rng);
    const pid_t pid = testing::start_moeplan_group(args(resume), log_);
    std::optional<int> exited = testing::wait_exit(pid, delay);
    if (!exited && at_write) exited = wait_for_write(pid);
    if (exited) {
      EXPECT_EQ(*exited, 0) << read_text_file(log_);
      return false;
    }
    ++figures->kills;
    figures->kills_aimed_at_writes += at_write;
    figures->kills_mid_write += testing::freeze_and_kill_group(pid, run_);
    figures->temp_files_left += static_cast<int>(count_temp_files(run_) - temp_before);
    return true;
  }

  // Polls the process's open files until a write under the run directory begins; its exit
  // status if it ends first.
  std::optional<int> wait_for_write(pid_t pid) const {
    for (;;) {
      if (auto status = testing::wait_exit(pid, 0)) return status;
      if (testing::writing_under(pid, run_)) return std::nullopt;
    }
  }

  // Whatever checkpoint the kill left reads back, and never goes back in steps.
  void check_after_kill() {
    if (!fs::exists(checkpoint())) {
      EXPECT_EQ(last_step_, 0) << "a kill lost the checkpoint";
      return;
    }
    std::int64_t step = -1;
    const std::string error = checkpoint_error(checkpoint(), &step);
    EXPECT_EQ(error, "") << "a kill left a checkpoint that cannot be read";
    EXPECT_GE(step, last_step_);
    EXPECT_LE(step, kTrainSteps);
    last_step_ = step;
  }

  fs::path run_, log_;
  std::string reference_;
  double seconds_ = 0;
  std::int64_t last_step_ = 0;
};

TEST(KillAtAnyMoment, TrainResumesToTheUninterruptedCheckpointBitForBit) {
  TempDir dir;
  TrainKills kills(dir);
  kills.run_reference();
  if (HasFatalFailure()) return;
  const int trials = testing::trials_from_env("MOEPLAN_KILL_TRAIN_TRIALS", kDefaultTrainTrials);
  std::mt19937_64 rng(kill_seed());
  KillFigures figures;
  for (int t = 0; t < trials && !HasFailure(); ++t) kills.trial(rng, &figures);
  std::cout << figures.report("train") << "\n";
  EXPECT_EQ(figures.survived, trials);
  EXPECT_GT(figures.kills, 0);
}

}  // namespace
}  // namespace moeplan::verify
