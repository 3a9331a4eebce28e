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
#include "tests/support/expect_error.h"
#include "tests/support/kill_trials.h"
#include "util/error.h"
#include "verify/backend.h"
#include "verify/checkpoint.h"
#include "verify/safetensors.h"
#include "verify/sweep/ledger.h"
#include "verify/sweep/sweep_setup.h"

namespace moeplan::verify {
namespace {

namespace fs = std::filesystem;
using moeplan::testing::read_text_file;
using moeplan::testing::run_moeplan;
using moeplan::testing::TempDir;
using Clock = std::chrono::steady_clock;

constexpr int kDefaultTrainTrials = 20;
constexpr int kDefaultSweepTrials = 2;
constexpr int kMaxKillsPerTrial = 3;
constexpr int kMaxMisses = 5;  // starts that finished before their kill, at a trial's start

struct KillFigures {
  int trials = 0, survived = 0, kills = 0, kills_mid_write = 0, temp_files_left = 0;
  int kills_aimed_at_writes = 0, kills_before_row = 0, worker_kills = 0;
  int resumed_starts = 0, fresh_starts = 0;
  std::string train_report() const {
    std::ostringstream s;
    s << "train: " << survived << " of " << trials << " trials survived; " << kills << " SIGKILLs ("
      << kills_mid_write << " mid-checkpoint-write, " << kills_aimed_at_writes
      << " aimed at a write); " << temp_files_left << " temporary files left by kills; "
      << resumed_starts << " starts from a checkpoint, " << fresh_starts << " from scratch";
    return s.str();
  }
  std::string sweep_report() const {
    std::ostringstream s;
    s << "sweep: " << survived << " of " << trials << " trials survived; " << kills << " SIGKILLs ("
      << kills_mid_write << " mid-write, " << kills_aimed_at_writes << " aimed at a write, "
      << kills_before_row << " between a run's end and its ledger row, " << worker_kills
      << " of a single worker); " << temp_files_left << " temporary files left by kills";
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

// The log's records without their timings (step_seconds, tokens_per_s); a line that is not a
// JSON object is kept as it is, to fail the comparison.
std::vector<std::string> comparable_records(const fs::path& log) {
  std::vector<std::string> records;
  std::istringstream lines(read_text_file(log));
  for (std::string line; std::getline(lines, line);) {
    auto record = nlohmann::json::parse(line, nullptr, false);
    if (!record.is_object()) {
      records.push_back("not a record: " + line);
      continue;
    }
    record.erase("step_seconds");
    record.erase("tokens_per_s");
    records.push_back(record.dump());
  }
  return records;
}

class TrainKills {
 public:
  explicit TrainKills(const TempDir& dir)
      : run_(dir / "run"),
        log_(dir / "train.out"),
        records_(dir / "log.jsonl"),
        batches_(dir / "batches.bin") {}

  std::vector<std::string> args(bool resume) const {
    std::vector<std::string> a;
    std::istringstream words(
        "train --d-model 32 --layers 2 --heads 2 --experts 4 --context 16 --batch 4 "
        "--micro-batch 2 --device cpu --random-data --vocab 256 --val-tokens 64 "
        "--checkpoint-every 1");
    for (std::string w; words >> w;) a.push_back(w);
    a.insert(a.end(), {"--steps", std::to_string(kTrainSteps), "--out", run_.string(), "--log",
                       records_.string(), "--dump-batches", batches_.string()});
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
    reference_records_ = comparable_records(records_);
    reference_batches_ = read_text_file(batches_);
    ASSERT_EQ(reference_records_.size(), kTrainSteps + 1u);
    fs::rename(run_, run_.string() + "-reference");  // kept for a look when a trial fails
  }

  // Kills the run 1 to kMaxKillsPerTrial times, restarting it after each (from its checkpoint
  // when there is one), then lets it finish.
  void trial(std::mt19937_64& rng, KillFigures* figures) {
    for (const auto& p : {run_, records_, batches_}) fs::remove_all(p);
    ++figures->trials;
    last_step_ = 0;
    const int kills = std::uniform_int_distribution<int>(1, kMaxKillsPerTrial)(rng);
    for (int k = 0, misses = 0; k < kills; ++k) {
      const bool resume = fs::exists(checkpoint());
      ++(resume ? figures->resumed_starts : figures->fresh_starts);
      if (!start_and_kill(rng, resume, figures)) {  // it finished first
        if (k > 0 || ++misses == kMaxMisses) break;
        for (const auto& p : {run_, records_, batches_}) fs::remove_all(p);
        --k;  // every trial kills at least once: start it again
        continue;
      }
      check_after_kill();
      if (::testing::Test::HasFailure()) return;
    }
    const bool resume = fs::exists(checkpoint());
    ++(resume ? figures->resumed_starts : figures->fresh_starts);
    const auto r = run_moeplan(args(resume));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const bool same = read_text_file(checkpoint()) == reference_;
    EXPECT_TRUE(same) << "the final checkpoint differs from the uninterrupted run's";
    // The log and the batch dump are cut back to the checkpoint on resume: the same records
    // (timings aside) and the same windows, none twice, no partial one.
    const bool same_log = comparable_records(records_) == reference_records_;
    EXPECT_TRUE(same_log) << "the log differs from the uninterrupted run's:\n"
                          << read_text_file(records_);
    const bool same_batches = read_text_file(batches_) == reference_batches_;
    EXPECT_TRUE(same_batches) << "the batch dump differs from the uninterrupted run's";
    figures->survived += same && same_log && same_batches;
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

  fs::path run_, log_, records_, batches_;
  std::string reference_, reference_batches_;
  std::vector<std::string> reference_records_;
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
  std::cout << figures.train_report() << "\n";
  EXPECT_EQ(figures.survived, trials);
  EXPECT_GT(figures.kills, 0);
}

// ---- sweep ----------------------------------------------------------------------------------

// Ledger rows by key, the timing cells (tokens_per_s, seconds: measured, so never the same twice)
// blanked; a duplicated key or a line without its newline is a failure.
std::map<std::string, std::string> comparable_rows(const fs::path& ledger) {
  std::map<std::string, std::string> rows;
  std::error_code ec;
  if (!fs::exists(ledger, ec)) return rows;
  const std::string text = read_text_file(ledger);
  EXPECT_TRUE(!text.empty() && text.back() == '\n') << "a partial line in " << ledger << ":\n"
                                                    << text;
  const auto& columns = ledger_columns();
  std::set<std::size_t> timings;
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == "tokens_per_s" || columns[i] == "seconds") timings.insert(i);
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::vector<std::string> cells(1);
    for (const char c : line) {
      if (c == ',')
        cells.emplace_back();
      else
        cells.back().push_back(c);
    }
    for (const std::size_t i : timings)
      if (i < cells.size()) cells[i] = "";
    std::string kept;
    for (const auto& c : cells) kept += c + ",";
    EXPECT_TRUE(rows.emplace(cells[0], kept).second) << "a duplicated row: " << line;
  }
  return rows;
}

class SweepKills {
 public:
  explicit SweepKills(const TempDir& dir)
      : data_(dir / "data"), sweep_(dir / "sweep"), log_(dir / "sweep.log") {}

  void prepare_data() const {
    const std::string src = MOEPLAN_SOURCE_DIR;
    const auto r = run_moeplan({"data", "prepare", "--tokenizer", "bytes", "--input",
                                src + "/README.md", src + "/docs", "--out", data_.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Four runs of about 30 steps (two sizes, dense and E = 2), two at a time.
  std::vector<std::string> args() const {
    std::vector<std::string> a;
    std::istringstream words(
        "sweep --budgets 3e9 --sparsities 0,0.5 --sizes 2 --context 32 --val-tokens 512 "
        "--min-steps 30 --device cpu --jobs 2");
    for (std::string w; words >> w;) a.push_back(w);
    a.insert(a.end(), {"--data", data_.string(), "--out", sweep_.string()});
    return a;
  }

  void run_reference() {
    fs::remove_all(sweep_);
    const auto start = Clock::now();
    const auto r = run_moeplan(args());
    seconds_ = std::chrono::duration<double>(Clock::now() - start).count();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    reference_runs_ = read_text_file(sweep_ / "runs.json");
    reference_rows_ = comparable_rows(sweep_ / "runs.csv");
    ASSERT_GE(reference_rows_.size(), 4u);
    fs::rename(sweep_, sweep_.string() + "-reference");
  }

  // The moment a kill most easily finds wrong, made by hand: every run has finished (final
  // checkpoint and summary written) but the ledger has none of their rows. The rerun resumes
  // each finished run, trains nothing, and must record the same rows from the checkpoints.
  void rerecord_finished_runs() {
    fs::remove_all(sweep_);
    fs::copy(sweep_.string() + "-reference", sweep_, fs::copy_options::recursive);
    fs::remove(sweep_ / "runs.csv");
    const auto r = run_moeplan(args());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(comparable_rows(sweep_ / "runs.csv"), reference_rows_);
  }

  void trial(std::mt19937_64& rng, KillFigures* figures) {
    fs::remove_all(sweep_);
    ++figures->trials;
    seen_.clear();
    const int kills = std::uniform_int_distribution<int>(1, kMaxKillsPerTrial)(rng);
    for (int k = 0, misses = 0; k < kills; ++k) {
      if (!start_and_kill(rng, figures)) {  // it finished first
        if (k > 0 || ++misses == kMaxMisses) break;
        fs::remove_all(sweep_);
        --k;  // every trial kills at least once: start it again
        continue;
      }
      check_after_kill();
      if (::testing::Test::HasFailure()) return;
    }
    // A run whose worker was killed counts as failed in that invocation (exit 1); the next one
    // trains it again.
    int exit_code = -1;
    for (int i = 0; i < 3 && exit_code != 0; ++i) exit_code = run_moeplan(args()).exit_code;
    ASSERT_EQ(exit_code, 0) << read_text_file(log_);
    const bool same_runs = read_text_file(sweep_ / "runs.json") == reference_runs_;
    const auto rows = comparable_rows(sweep_ / "runs.csv");
    EXPECT_TRUE(same_runs) << "runs.json differs from the uninterrupted sweep's";
    EXPECT_EQ(rows, reference_rows_) << "the ledger differs from the uninterrupted sweep's";
    figures->survived += same_runs && rows == reference_rows_;
  }

 private:
  // One invocation, killed after a delay drawn over what is left of the reference sweep's wall
  // time, in one of four ways: the whole process group right then (a node lost); the group as
  // the next checkpoint, summary or ledger write begins; the group once a run has finished (its
  // summary.json is written) but before its ledger row is; or only one worker right then (the
  // runner goes on).
  bool start_and_kill(std::mt19937_64& rng, KillFigures* figures) {
    const std::size_t temp_before = count_temp_files(sweep_);
    const double left = 1.0 - static_cast<double>(seen_.size()) / reference_rows_.size();
    const double delay =
        std::uniform_real_distribution<double>(0, seconds_ * std::max(0.3, left))(rng);
    const int mode = std::uniform_int_distribution<int>(0, 3)(rng);
    const auto started = fs::file_time_type::clock::now();
    const pid_t pid = testing::start_moeplan_group(args(), log_);
    std::optional<int> exited = testing::wait_exit(pid, delay);
    if (!exited && mode == 1)
      exited = wait_for(pid, [&](pid_t p) { return testing::writing_under(p, sweep_); });
    if (!exited && mode == 2) exited = wait_for(pid, [&](pid_t) { return unrecorded(started); });
    if (exited) {
      EXPECT_TRUE(*exited == 0 || *exited == 1) << read_text_file(log_);
      return false;
    }
    ++figures->kills;
    figures->kills_aimed_at_writes += mode == 1;
    figures->kills_before_row += mode == 2;
    std::vector<pid_t> workers = testing::group_members(pid);
    std::erase(workers, pid);
    if (mode == 3 && !workers.empty()) {
      const pid_t worker =
          workers[std::uniform_int_distribution<std::size_t>(0, workers.size() - 1)(rng)];
      ++figures->worker_kills;
      figures->kills_mid_write += testing::freeze_and_kill_one(worker, sweep_);
      exited = testing::wait_exit(pid, 300);
      EXPECT_TRUE(exited && (*exited == 0 || *exited == 1)) << read_text_file(log_);
    } else {
      figures->kills_mid_write += testing::freeze_and_kill_group(pid, sweep_);
    }
    EXPECT_TRUE(testing::wait_group_gone(pid, 60));
    figures->temp_files_left += static_cast<int>(count_temp_files(sweep_) - temp_before);
    return true;
  }

  // Whether a run finished since `since` (a new summary.json) has no ledger row yet.
  bool unrecorded(fs::file_time_type since) const {
    std::error_code ec;
    const std::string ledger = "\n" + read_text_file(sweep_ / "runs.csv");
    for (const auto& entry : fs::directory_iterator(sweep_ / "runs", ec)) {
      const fs::path summary = entry.path() / "summary.json";
      const auto written = fs::last_write_time(summary, ec);
      if (!ec && written > since &&
          ledger.find("\n" + entry.path().filename().string() + ",") == std::string::npos)
        return true;
    }
    return false;
  }

  // Polls the runner and its workers until `seen` holds for one of them; the runner's exit
  // status if it ends first.
  template <class Seen>
  std::optional<int> wait_for(pid_t pid, const Seen& seen) const {
    std::vector<pid_t> members;
    auto listed = Clock::now() - std::chrono::seconds(1);
    for (;;) {
      if (auto status = testing::wait_exit(pid, 0)) return status;
      if (Clock::now() - listed > std::chrono::milliseconds(20)) {
        members = testing::group_members(pid);
        listed = Clock::now();
      }
      for (const pid_t m : members)
        if (seen(m)) return std::nullopt;
    }
  }

  // The ledger reads back, has no partial or duplicated line, and keeps every row it had; every
  // run's checkpoint reads back.
  void check_after_kill() {
    const std::string error = testing::error_of([&] { read_ledger(sweep_ / "runs.csv"); });
    EXPECT_EQ(error, "") << "a kill left a ledger that cannot be read";
    const auto rows = comparable_rows(sweep_ / "runs.csv");
    for (const auto& [key, row] : seen_) {
      const auto it = rows.find(key);
      EXPECT_TRUE(it != rows.end()) << "a kill lost the row of " << key;
      if (it != rows.end()) {
        EXPECT_EQ(it->second, row);
      }
    }
    seen_ = rows;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(sweep_ / "runs", ec)) {
      const fs::path file = entry.path() / kCheckpointFileName;
      std::int64_t step = -1;
      if (fs::exists(file, ec)) {
        EXPECT_EQ(checkpoint_error(file, &step), "") << "a kill left a checkpoint unreadable";
      }
    }
  }

  fs::path data_, sweep_, log_;
  std::string reference_runs_;
  std::map<std::string, std::string> reference_rows_, seen_;
  double seconds_ = 0;
};

TEST(KillAtAnyMoment, SweepLedgerKeepsOneRowPerRunAsUninterrupted) {
  testing::reap_orphans();  // a killed runner's workers become ours to wait for
  TempDir dir;
  SweepKills kills(dir);
  kills.prepare_data();
  if (HasFatalFailure()) return;
  kills.run_reference();
  if (HasFatalFailure()) return;
  kills.rerecord_finished_runs();
  const int trials = testing::trials_from_env("MOEPLAN_KILL_SWEEP_TRIALS", kDefaultSweepTrials);
  std::mt19937_64 rng(kill_seed() + 1000);
  KillFigures figures;
  for (int t = 0; t < trials && !HasFailure(); ++t) kills.trial(rng, &figures);
  std::cout << figures.sweep_report() << "\n";
  EXPECT_EQ(figures.survived, trials);
  EXPECT_GT(figures.kills, 0);
}

}  // namespace
}  // namespace moeplan::verify
