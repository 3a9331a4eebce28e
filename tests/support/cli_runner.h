#pragma once
// Runs the built `moeplan` binary as a user would and captures what it prints.
#include <filesystem>
#include <string>
#include <vector>

namespace moeplan::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs MOEPLAN_BINARY with `args` (each passed as one argument, shell-quoted).
CliResult run_moeplan(const std::vector<std::string>& args);

// A fresh empty directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::string read_text_file(const std::filesystem::path& path);
void write_text_file(const std::filesystem::path& path, const std::string& text);

}  // namespace moeplan::testing
