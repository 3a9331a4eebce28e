// A disk that fills up midway, without privileges: every writer run under a file size limit
// (RLIMIT_FSIZE, "File too large") or pointed at /dev/full ("No space left on device") fails with
// one line naming the path and the cause, keeps the previous file byte for byte, and leaves no
// temporary file (issue 13, item 4; tests/disk_mount_test.cpp does the same on a real full or
// read-only filesystem where it may mount one).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>

#include "tests/support/cli_runner.h"
#include "tests/support/disk_faults.h"
#include "tests/support/example_runs.h"
#include "util/error.h"
#include "util/files.h"
#include "verify/sweep/ledger.h"

namespace moeplan::testing {
namespace {

using Names = std::vector<std::string>;

// The error is one line, "moeplan: error: cannot write 'PATH': CAUSE...".
void expect_one_line_error(const std::string& err, const std::filesystem::path& path,
                           const std::string& cause) {
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(err.rfind("moeplan: error: cannot write '" + path.string() + "': " + cause, 0), 0u)
      << err;
}

const std::vector<std::string> kPlanArgs{"plan",  "--budget", "1e20", "--memory",
                                         "80GiB", "--format", "json"};

TEST(DiskFull, PlanReportKeepsThePreviousFile) {
  TempDir dir;
  const auto report = dir / "plan.json";
  write_text_file(report, "previous\n");
  const auto r = run_moeplan_with_file_limit(with(kPlanArgs, {"--out", report.string()}), 1000);
  EXPECT_EQ(r.exit_code, 1) << r.err;  // not killed by SIGXFSZ (exit 153)
  expect_one_line_error(r.err, report, "File too large");
  EXPECT_EQ(read_text_file(report), "previous\n");
  EXPECT_EQ(directory_names(dir.path()), Names{"plan.json"});
}

TEST(DiskFull, LawFitOutputKeepsThePreviousFile) {
  TempDir dir;
  write_text_file(dir / "runs.csv", example_runs_csv());
  const auto law = dir / "law.json";
  write_text_file(law, "{}\n");
  const auto r = run_moeplan_with_file_limit(
      {"law", "fit", (dir / "runs.csv").string(), "--starts", "10", "-o", law.string()}, 200);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  expect_one_line_error(r.err, law, "File too large");
  EXPECT_EQ(read_text_file(law), "{}\n");
  EXPECT_EQ(directory_names(dir.path()), (Names{"law.json", "runs.csv"}));
}

TEST(DiskFull, CheckpointOverwrittenMidwayStaysTheLastGoodOne) {
  TempDir dir;
  const auto run = dir / "run";
  auto r = run_moeplan(with(kTrainArgs, {"--stop-after", "2", "--out", run.string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto checkpoint = run / "checkpoint.safetensors";
  const std::string before = read_text_file(checkpoint);
  ASSERT_GT(before.size(), 200000u);
  // The resumed run's checkpoint stops at 200 kB of its ~0.8 MB.
  r = run_moeplan_with_file_limit(
      with(kTrainArgs, {"--resume", run.string(), "--out", run.string()}), 200000);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  expect_one_line_error(r.err, checkpoint, "File too large");
  EXPECT_EQ(read_text_file(checkpoint), before);
  EXPECT_EQ(directory_names(run), Names{"checkpoint.safetensors"});
}

TEST(DiskFull, DataPrepareShardsLeaveNothing) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 3000; ++i)
    text += "the expert router sends token " + std::to_string(i) + "\n";
  write_text_file(dir / "corpus.txt", text);  // ~100 kB: the first shard passes the limit
  const auto out = dir / "data";
  const auto r = run_moeplan_with_file_limit({"data", "prepare", "--tokenizer", "bytes", "--input",
                                              (dir / "corpus.txt").string(), "--out", out.string()},
                                             20000);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot write '" + out.string() + "/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(".bin': File too large"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(directory_names(dir.path()), Names{"corpus.txt"});  // the new directory is removed
}

// The sentencepiece model is trained into memory and written by moeplan: sentencepiece's own
// writes kept a truncated model that then failed to load with a parse error.
TEST(DiskFull, SentencePieceModelNamesTheFileAndTheCause) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "the expert router sends token " + std::to_string(i % 97) + "\n";
  write_text_file(dir / "corpus.txt", text);
  const auto out = dir / "data";
  const auto r =
      run_moeplan_with_file_limit({"data", "prepare", "--tokenizer", "sentencepiece:400", "--input",
                                   (dir / "corpus.txt").string(), "--out", out.string()},
                                  2000);  // the model is ~5 kB
  EXPECT_EQ(r.exit_code, 1) << r.err;
  expect_one_line_error(r.err, out / "tokenizer.model", "File too large");
  EXPECT_EQ(directory_names(dir.path()), Names{"corpus.txt"});
}

TEST(DiskFull, LedgerRewriteKeepsEveryRecordedRow) {
  TempDir dir;
  const auto ledger = dir / "runs.csv";
  verify::LedgerRow row;
  row.key = "first";
  row.status = verify::RunStatus::kFailed;  // needs no measurements
  verify::record_run(ledger, row);
  const std::string before = read_text_file(ledger);
  const std::string error = in_child([&] {
    limit_file_size(before.size() + 16);  // the second row does not fit
    row.key = "second";
    try {
      verify::record_run(ledger, row);
    } catch (const Error& e) {
      return std::string("moeplan: error: ") + e.what() + "\n";
    }
    return std::string("no error");
  });
  expect_one_line_error(error, ledger, "File too large");
  EXPECT_EQ(read_text_file(ledger), before);
  EXPECT_EQ(directory_names(dir.path()), (Names{"runs.csv", "runs.csv.lock"}));
}

// Appended files (the JSON-lines log, the batch dump) are written where they are named.
TEST(DiskFull, TrainingLogAndDumpOnAFullDeviceStopTheRunAndSaySo) {
  TempDir dir;
  auto r = run_moeplan(with(kTrainArgs, {"--no-checkpoint", "--log", "/dev/full"}));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  expect_one_line_error(r.err, "/dev/full",
                        "No space left on device; training stopped at step 0, no checkpoint "
                        "written yet");
  r = run_moeplan(with(kTrainArgs, {"--no-checkpoint", "--dump-batches", "/dev/full"}));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  expect_one_line_error(r.err, "/dev/full", "No space left on device");
}

// A report on standard output redirected into a full device.
TEST(DiskFull, ReportOnStandardOutputIntoAFullDevice) {
  TempDir dir;
  std::string command = std::string("'") + MOEPLAN_BINARY + "'";
  for (const auto& a : kPlanArgs) command += " " + a;
  command += " >/dev/full 2>'" + (dir / "err").string() + "'";
  const int status = std::system(command.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_EQ(read_text_file(dir / "err"),
            "moeplan: error: cannot write to standard output: No space left on device\n");
}

// The atomic writer renames over its target: a device or a pipe must be refused, not replaced
// (a FIFO of the test's own stands for /dev/full, which a regression would replace as root).
TEST(DiskFull, AtomicWriterRefusesAFileThatIsNotRegular) {
  TempDir dir;
  const auto fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto r = run_moeplan(with(kPlanArgs, {"--out", fifo.string()}));
  EXPECT_EQ(r.exit_code, 1);
  expect_one_line_error(r.err, fifo, "not a regular file");
  struct stat file;
  ASSERT_EQ(::stat(fifo.c_str(), &file), 0);
  EXPECT_TRUE(S_ISFIFO(file.st_mode));
  EXPECT_EQ(directory_names(dir.path()), Names{"fifo"});
}

// While the file is written its directory shows no new name where the filesystem gives unnamed
// temporary files (so a kill -9 then leaves nothing); a writer that throws leaves none either.
TEST(DiskFull, TemporaryFileIsUnnamedAndRemovedOnFailure) {
  TempDir dir;
  const auto target = dir / "out.bin";
  write_text_file(target, "previous");
  Names seen;
  EXPECT_THROW(write_file_atomic(target,
                                 [&](std::ostream& out) {
                                   out << std::string(100000, 'x') << std::flush;
                                   seen = directory_names(dir.path());
                                   throw Error("stopped by the test");
                                 }),
               Error);
  if (unnamed_temporary_files_work(dir.path()))
    EXPECT_EQ(seen, Names{"out.bin"});
  else
    EXPECT_EQ(seen.size(), 2u);  // out.bin and its named temporary file
  EXPECT_EQ(read_text_file(target), "previous");
  EXPECT_EQ(directory_names(dir.path()), Names{"out.bin"});
  // A new file under its own name when done, and a replaced one.
  write_file_atomic(dir / "new.txt", "new");
  write_file_atomic(target, "replaced");
  EXPECT_EQ(read_text_file(dir / "new.txt"), "new");
  EXPECT_EQ(read_text_file(target), "replaced");
  EXPECT_EQ(directory_names(dir.path()), (Names{"new.txt", "out.bin"}));
}

}  // namespace
}  // namespace moeplan::testing
