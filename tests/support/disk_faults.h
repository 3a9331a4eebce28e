#pragma once
// Faults of the disk for the writers' tests (tests/disk_*_test.cpp): a file size limit
// (RLIMIT_FSIZE), a private tmpfs that fills up or is read-only, all in a forked child so the
// test process keeps its limits and mounts.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/cli_runner.h"

namespace moeplan::testing {

// `moeplan train` of a d32 model on random tokens, 4 steps on the CPU: a checkpoint of about
// 0.8 MB for the writers' tests to overwrite.
extern const std::vector<std::string> kTrainArgs;

// `args` followed by `more`.
std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more);

// Runs MOEPLAN_BINARY with `args` under a file size limit of `limit_bytes`, SIGXFSZ at its
// default (moeplan's main must ignore it); stdout goes to /dev/null, stderr is captured.
CliResult run_moeplan_with_file_limit(const std::vector<std::string>& args,
                                      std::uint64_t limit_bytes);

// Runs `body` in a forked child and returns the text it returns; "child failed: ..." when it
// threw, exited or was killed instead.
std::string in_child(const std::function<std::string()>& body);

// In a child: a file size limit of `limit_bytes` with SIGXFSZ ignored, as in moeplan's main.
void limit_file_size(std::uint64_t limit_bytes);

// In a child: enters a new user and mount namespace and mounts a tmpfs of `size_bytes` at
// `dir`; returns "" on success, else why not (no user namespaces, a seccomp filter ...).
std::string mount_private_tmpfs(const std::filesystem::path& dir, std::uint64_t size_bytes);
// In a child, after mount_private_tmpfs: makes that tmpfs read-only; "" or why not.
std::string remount_read_only(const std::filesystem::path& dir, std::uint64_t size_bytes);

// In a child, after mount_private_tmpfs: covers /proc with an empty tmpfs, as on a system
// without /proc (the atomic writer then uses a named temporary file); "" or why not.
std::string hide_proc();

// The names in `dir`, sorted ("" entries never; a missing directory gives none).
std::vector<std::string> directory_names(const std::filesystem::path& dir);

// Whether `dir`'s filesystem gives unnamed temporary files (O_TMPFILE): the atomic writer then
// leaves no name behind while it writes.
bool unnamed_temporary_files_work(const std::filesystem::path& dir);

}  // namespace moeplan::testing
