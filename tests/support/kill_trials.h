#pragma once
// Killing the built `moeplan` binary at chosen moments (tests/kill_resume_test.cpp): start it in
// its own process group, freeze it (SIGSTOP) to see what it was doing, then SIGKILL it. Linux
// only (/proc, PR_SET_CHILD_SUBREAPER).
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace moeplan::testing {

// Starts MOEPLAN_BINARY with `args` in a new process group (its id is the pid), stdout and
// stderr appended to `log`.
pid_t start_moeplan_group(const std::vector<std::string>& args, const std::filesystem::path& log);

// The exit status (as run_moeplan reports it: 128 + signal when killed) once `pid` has exited,
// or nothing while it still runs after `seconds`.
std::optional<int> wait_exit(pid_t pid, double seconds);

// Whether `pid` holds open a temporary file of the atomic writer under `dir`: one with ".tmp" in
// its name, or an unlinked file (an O_TMPFILE, shown as "... (deleted)"). That is, it is in the
// middle of writing a checkpoint, a summary or a ledger.
bool writing_under(pid_t pid, const std::filesystem::path& dir);

// Whether `pid` has `file` open (a sweep worker holds SWEEP/runs.csv.lock open only while it
// updates the ledger).
bool holds_open(pid_t pid, const std::filesystem::path& file);

// The living processes of process group `group` (from /proc).
std::vector<pid_t> group_members(pid_t group);

// Freezes every process of `group` (SIGSTOP), notes whether any was writing under `dir`, then
// SIGKILLs the group and reaps the processes that are this process's children (with
// reap_orphans(), the group's orphaned workers too). Returns whether a write was cut.
bool freeze_and_kill_group(pid_t group, const std::filesystem::path& dir);

// The same for one process (a sweep worker) whose parent goes on running and reaps it.
bool freeze_and_kill_one(pid_t pid, const std::filesystem::path& dir);

// Makes this process the reaper of its descendants' orphans, so a killed runner's workers can
// be waited for (PR_SET_CHILD_SUBREAPER).
void reap_orphans();

// Waits (up to `seconds`) until no process of `group` is left, reaping the ones it may.
bool wait_group_gone(pid_t group, double seconds);

// Files under `dir` (recursively) with ".tmp" in their name: what a kill mid-write left.
std::vector<std::filesystem::path> temp_files_under(const std::filesystem::path& dir);

// A number of trials from the environment variable `name`, else `fallback`.
int trials_from_env(const char* name, int fallback);

}  // namespace moeplan::testing
