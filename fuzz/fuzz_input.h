#pragma once
// What every fuzz target shares: the input as text or as a file, and the one outcome besides
// success that a parser may have. moeplan::Error is the documented refusal of bad input; any
// other exception escapes the target, so libFuzzer (or the replay) reports it as a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "util/error.h"

namespace moeplan::fuzz {

inline std::string input_text(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs `parse`; a moeplan::Error is a normal outcome and yields false.
template <typename Parse>
bool accepts(Parse&& parse) {
  try {
    parse();
    return true;
  } catch (const moeplan::Error&) {
    return false;
  }
}

// One temporary file per process and suffix, rewritten with each input (readers that take a
// path). Removed when the process exits normally.
class InputFile {
 public:
  explicit InputFile(const std::string& suffix)
      : path_(std::filesystem::temp_directory_path() /
              ("moeplan-fuzz-" + std::to_string(::getpid()) + suffix)) {}
  ~InputFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::filesystem::path& write(const std::uint8_t* data, std::size_t size) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) throw std::runtime_error("fuzz: cannot write " + path_.string());
    return path_;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace moeplan::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
