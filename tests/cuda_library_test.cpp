// Start-up without CUDA (issue 12, item 4): commands that plan, count or fit never load cuBLAS,
// cuBLASLt, cuDNN or the CUDA trainer; `train --device cuda` opens libmoeplan_cuda.so on demand
// and, when it (or a library it needs) is missing, says which in one line.
#include "verify/cuda_library.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/cli_runner.h"

namespace moeplan::verify {
namespace {

using moeplan::testing::run_moeplan;
using moeplan::testing::TempDir;
using moeplan::testing::write_text_file;

// Sets an environment variable for the commands run in its lifetime.
class ScopedVariable {
 public:
  ScopedVariable(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedVariable() { ::unsetenv(name_); }
  ScopedVariable(const ScopedVariable&) = delete;
  ScopedVariable& operator=(const ScopedVariable&) = delete;

 private:
  const char* name_;
};

// What glibc's loader reports opening for `moeplan ARGS` (LD_DEBUG=libs, for that process only).
std::string libraries_loaded(const std::vector<std::string>& args) {
  TempDir dir;
  std::string command = "LD_DEBUG=libs '" + std::string(MOEPLAN_BINARY) + "'";
  for (const auto& a : args) command += " '" + a + "'";  // plain words: no quoting needed
  command += " </dev/null >/dev/null 2>'" + (dir / "loader.txt").string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return moeplan::testing::read_text_file(dir / "loader.txt");
}

TEST(StartUp, PlanningCommandsLoadNoCudaLibrary) {
  const std::vector<std::vector<std::string>> commands = {
      {"--version"},
      {"plan", "--budget", "1e21", "--gpus", "8", "--gpu-memory", "80GiB"},
      {"law", "show", "abnar2025"},
      {"train", "--info", "--device", "cpu"}};
  for (const auto& args : commands) {
    const std::string loaded = libraries_loaded(args);
    ASSERT_NE(loaded.find("calling init"), std::string::npos) << "LD_DEBUG gave nothing";
    for (const char* cuda : {"libcublas", "libcudnn", "libcudart", "libmoeplan_cuda"})
      EXPECT_EQ(loaded.find(cuda), std::string::npos) << args[0] << " loaded " << cuda;
  }
}

std::vector<std::string> tiny_cuda_run(const TempDir& dir) {
  return {"train",   "--d-model", "32",    "--layers",          "1",    "--context",
          "16",      "--steps",   "1",     "--device",          "cuda", "--random-data",
          "--vocab", "64",        "--out", (dir / "r").string()};
}

TEST(CudaLibrary, AMissingTrainerIsNamedInOneLine) {
  TempDir dir;
  const ScopedVariable missing(kCudaLibraryVariable, (dir / kCudaLibraryName).string());
  for (const auto& args : {tiny_cuda_run(dir), std::vector<std::string>{"train", "--info"}}) {
    const auto r = run_moeplan(args);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("cannot load the CUDA trainer"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(kCudaLibraryName), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "r"));
}

TEST(CudaLibrary, ALibraryThatCannotBeLoadedIsNamedWithTheLoadersReason) {
  TempDir dir;
  write_text_file(dir / kCudaLibraryName, "not a shared object");
  const ScopedVariable broken(kCudaLibraryVariable, (dir / kCudaLibraryName).string());
  const auto r = run_moeplan({"train", "--info"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot load the CUDA trainer " + (dir / kCudaLibraryName).string() + ": "),
            std::string::npos)
      << r.err;
}

// With the built trainer next to the binary (a CUDA build), an error inside it (no GPU here,
// or a GPU run) comes back as a code and a message, never as an exception through dlopen.
TEST(CudaLibrary, TheBuiltTrainerReportsErrorsAsOneLine) {
  const auto trainer = std::filesystem::path(MOEPLAN_BINARY).parent_path() / kCudaLibraryName;
  if (!std::filesystem::exists(trainer)) GTEST_SKIP() << "built without CUDA";
  const auto r = run_moeplan({"train", "--info", "--device", "cuda"});
  if (r.exit_code == 0) {
    EXPECT_NE(r.out.find("device: cuda"), std::string::npos) << r.out;
  } else {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err.rfind("moeplan: error: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  }
}

}  // namespace
}  // namespace moeplan::verify
