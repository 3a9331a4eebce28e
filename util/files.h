#pragma once
// File helpers that never leave a half-written file behind: output goes to a temporary file in
// the same directory and is renamed into place only when complete.
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>

namespace moeplan {

// Reads a whole file; throws Error naming the path when it cannot.
std::string read_file(const std::filesystem::path& path);

// Writes `contents` to `path` atomically (temp file + rename). Throws Error on failure, in
// which case `path` is untouched.
void write_file_atomic(const std::filesystem::path& path, const std::string& contents);

// Streaming variant for large outputs: `write` fills the temporary file's stream. If `write`
// throws or the stream fails, the temporary file is removed and `path` is untouched; an
// exception from `write` propagates unchanged.
void write_file_atomic(const std::filesystem::path& path,
                       const std::function<void(std::ostream&)>& write);

// Throws Error unless `path`'s directory exists and is writable: used to fail *before* doing
// expensive work whose result could not be saved.
void check_writable(const std::filesystem::path& path);

}  // namespace moeplan
