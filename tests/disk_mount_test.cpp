// A real full or read-only filesystem: a tmpfs mounted by the test in its own user and mount
// namespace (skipped, with the reason, where the system allows none). Writing a report, a
// checkpoint, shards or the ledger there fails with one line naming the path and the cause,
// keeps the previous file byte for byte and leaves no temporary file (issue 13, item 4).
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.h"
#include "tests/support/disk_faults.h"
#include "tests/support/expect_error.h"
#include "util/error.h"
#include "util/files.h"
#include "verify/sweep/ledger.h"

namespace moeplan::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// What a child saw on its private tmpfs: the command's exit code and stderr, whether the previous
// file is byte for byte as it was, and the names left in the mount.
struct MountOutcome {
  std::string skip;  // why no tmpfs could be mounted; empty when one was
  int exit_code = -1;
  std::string err;
  bool previous_intact = false;
  std::vector<std::string> names;
};

struct MountCase {
  std::uint64_t size_bytes = 0;
  bool read_only = false;
  std::string previous_name;  // copied into the mount before `act`; empty: none
  fs::path previous_source;   // where its bytes come from
  std::function<CliResult(const fs::path& mount)> act;
};

// Mounts the case's tmpfs at `mount` (an empty directory) in a child, which runs the case.
MountOutcome run_on_private_tmpfs(const fs::path& mount, const MountCase& c) {
  fs::create_directory(mount);
  const std::string report = in_child([&] {
    json j;
    std::string why = mount_private_tmpfs(mount, c.size_bytes);
    if (why.empty() && !c.previous_name.empty())
      fs::copy_file(c.previous_source, mount / c.previous_name);
    if (why.empty() && c.read_only) why = remount_read_only(mount, c.size_bytes);
    if (!why.empty()) return json{{"skip", why}}.dump();
    const CliResult r = c.act(mount);
    j["exit"] = r.exit_code;
    j["err"] = r.err;
    j["previous_intact"] = !c.previous_name.empty() && read_text_file(mount / c.previous_name) ==
                                                           read_text_file(c.previous_source);
    j["names"] = directory_names(mount);
    return j.dump();
  });
  MountOutcome o;
  const json j = json::parse(report, nullptr, false);
  if (j.is_discarded()) {
    o.err = report;  // the child failed
    return o;
  }
  o.skip = j.value("skip", "");
  if (!o.skip.empty()) return o;
  o.exit_code = j["exit"].get<int>();
  o.err = j["err"].get<std::string>();
  o.previous_intact = j["previous_intact"].get<bool>();
  o.names = j["names"].get<std::vector<std::string>>();
  return o;
}

#define SKIP_IF_NO_MOUNT(outcome) \
  if (!(outcome).skip.empty()) GTEST_SKIP() << (outcome).skip

void expect_one_line(const std::string& err, const std::string& expected) {
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(err.rfind("moeplan: error: " + expected, 0), 0u) << err;
}


CliResult plan_into(const fs::path& report) {
  return run_moeplan({"plan", "--budget", "1e20", "--memory", "80GiB", "--format", "json", "--out",
                      report.string()});
}

MountCase plan_case(const fs::path& previous, std::uint64_t size_bytes, bool read_only) {
  MountCase c;
  c.size_bytes = size_bytes;  // the JSON report is ~28 kB
  c.read_only = read_only;
  c.previous_name = "plan.json";
  c.previous_source = previous;
  c.act = [](const fs::path& m) { return plan_into(m / "plan.json"); };
  return c;
}

TEST(DiskMount, PlanReportOnAFullAndOnAReadOnlyFilesystem) {
  TempDir dir;
  write_text_file(dir / "previous.json", "previous\n");
  for (const bool read_only : {false, true}) {
    const MountOutcome o =
        run_on_private_tmpfs(dir / "mnt", plan_case(dir / "previous.json", 16384, read_only));
    SKIP_IF_NO_MOUNT(o);
    EXPECT_EQ(o.exit_code, 1) << o.err;
    expect_one_line(o.err, "cannot write '" + (dir / "mnt" / "plan.json").string() + "': " +
                               (read_only ? "Read-only file system" : "No space left on device"));
    EXPECT_TRUE(o.previous_intact);
    EXPECT_EQ(o.names, std::vector<std::string>{"plan.json"});
  }
}

TEST(DiskMount, CheckpointOnAFullAndOnAReadOnlyFilesystem) {
  TempDir dir;
  auto r = run_moeplan(with(kTrainArgs, {"--stop-after", "2", "--out", (dir / "run").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path previous = dir / "run" / "checkpoint.safetensors";
  const std::string before = read_text_file(previous);
  for (const bool read_only : {false, true}) {
    MountCase c;
    c.size_bytes = before.size() * 3 / 2;  // room for the previous checkpoint, not a second
    c.read_only = read_only;
    c.previous_name = "checkpoint.safetensors";
    c.previous_source = previous;
    c.act = [](const fs::path& m) {
      return run_moeplan(with(kTrainArgs, {"--resume", m.string(), "--out", m.string()}));
    };
    const MountOutcome o = run_on_private_tmpfs(dir / "mnt", c);
    SKIP_IF_NO_MOUNT(o);
    EXPECT_EQ(o.exit_code, 1) << o.err;
    expect_one_line(o.err,
                    "cannot write '" + (dir / "mnt" / "checkpoint.safetensors").string() +
                        "': " + (read_only ? "Read-only file system" : "No space left on device"));
    EXPECT_TRUE(o.previous_intact) << "the previous checkpoint changed";
    EXPECT_EQ(o.names, std::vector<std::string>{"checkpoint.safetensors"});
  }
}

TEST(DiskMount, DataPrepareShardsOnAFullAndOnAReadOnlyFilesystem) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 3000; ++i)
    text += "the expert router sends token " + std::to_string(i) + "\n";
  write_text_file(dir / "corpus.txt", text);  // ~100 kB of shards
  for (const bool read_only : {false, true}) {
    MountCase c;
    c.size_bytes = 16384;
    c.read_only = read_only;
    c.act = [&](const fs::path& m) {
      return run_moeplan({"data", "prepare", "--tokenizer", "bytes", "--input",
                          (dir / "corpus.txt").string(), "--out", (m / "data").string()});
    };
    const MountOutcome o = run_on_private_tmpfs(dir / "mnt", c);
    SKIP_IF_NO_MOUNT(o);
    EXPECT_EQ(o.exit_code, 1) << o.err;
    const std::string data = (dir / "mnt" / "data").string();
    if (read_only)
      expect_one_line(o.err, "cannot create output directory " + data + ": Read-only file system");
    else
      expect_one_line(o.err, "cannot write '" + data +
                                 "/data_train_000000.bin': No space left on "
                                 "device");
    EXPECT_TRUE(o.names.empty()) << o.names.size() << " names left";  // the directory is removed
  }
}

// The ledger is rewritten whole under its lock (verify/sweep/ledger.cpp).
TEST(DiskMount, LedgerOnAFullAndOnAReadOnlyFilesystem) {
  TempDir dir;
  const fs::path previous = dir / "runs.csv";
  verify::LedgerRow row;
  row.key = "first";
  row.status = verify::RunStatus::kFailed;  // needs no measurements
  verify::record_run(previous, row);
  for (const bool read_only : {false, true}) {
    MountCase c;
    c.size_bytes = 4096;  // one page: the previous ledger's
    c.read_only = read_only;
    c.previous_name = "runs.csv";
    c.previous_source = previous;
    c.act = [&](const fs::path& m) {
      CliResult r;
      row.key = "second";
      try {
        verify::record_run(m / "runs.csv", row);
        r.exit_code = 0;
      } catch (const Error& e) {
        r.exit_code = 1;
        r.err = std::string("moeplan: error: ") + e.what() + "\n";
      }
      return r;
    };
    const MountOutcome o = run_on_private_tmpfs(dir / "mnt", c);
    SKIP_IF_NO_MOUNT(o);
    EXPECT_EQ(o.exit_code, 1) << o.err;
    const std::string ledger = (dir / "mnt" / "runs.csv").string();
    if (read_only) {
      expect_one_line(o.err, "cannot open '" + ledger + ".lock': Read-only file system");
      EXPECT_EQ(o.names, std::vector<std::string>{"runs.csv"});
    } else {
      expect_one_line(o.err, "cannot write '" + ledger + "': No space left on device");
      EXPECT_EQ(o.names, (std::vector<std::string>{"runs.csv", "runs.csv.lock"}));
    }
    EXPECT_TRUE(o.previous_intact);
  }
}

// Without /proc an unnamed temporary file cannot be given a name: the writer falls back to a
// named one, `TARGET.tmpNNN`, and still removes it on every failure.
TEST(DiskMount, NamedTemporaryFileWithoutProc) {
  TempDir dir;
  const fs::path mount = dir / "mnt";
  fs::create_directory(mount);
  const fs::path target = mount / "out.txt";
  const std::string report = in_child([&] {
    std::string why = mount_private_tmpfs(mount, 16384);
    if (why.empty()) why = hide_proc();
    if (!why.empty()) return json{{"skip", why}}.dump();
    json j;
    write_file_atomic(target, "previous");
    j["full"] = error_of([&] { write_file_atomic(target, std::string(100000, 'x')); });
    j["after_full"] = directory_names(mount);
    j["thrown"] = error_of([&] {
      write_file_atomic(target, [&](std::ostream& out) {
        out << "partial" << std::flush;
        j["while_writing"] = directory_names(mount);
        throw Error("stopped by the test");
      });
    });
    j["previous"] = read_text_file(target);
    write_file_atomic(target, "replaced");
    j["replaced"] = read_text_file(target);
    j["names"] = directory_names(mount);
    return j.dump();
  });
  const json j = json::parse(report, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << report;
  if (j.contains("skip")) GTEST_SKIP() << j["skip"].get<std::string>();
  EXPECT_EQ(j["full"], "cannot write '" + target.string() + "': No space left on device");
  EXPECT_EQ(j["after_full"], json::array({"out.txt"}));
  EXPECT_EQ(j["thrown"], "stopped by the test");
  ASSERT_EQ(j["while_writing"].size(), 2u) << j.dump();
  EXPECT_EQ(j["while_writing"][1].get<std::string>().rfind("out.txt.tmp", 0), 0u) << j.dump();
  EXPECT_EQ(j["previous"], "previous");
  EXPECT_EQ(j["replaced"], "replaced");
  EXPECT_EQ(j["names"], json::array({"out.txt"}));
}

}  // namespace
}  // namespace moeplan::testing
