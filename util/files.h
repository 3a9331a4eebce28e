#pragma once
// File helpers that never leave a half-written file behind: output goes to a temporary file in
// the same directory and is renamed into place only when complete.
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <string>

namespace moeplan {

// Reads a whole file; throws Error naming the path when it cannot.
std::string read_file(const std::filesystem::path& path);

// An input stream on `path`; throws Error "cannot read 'PATH': REASON" when it is a directory or
// cannot be opened. read_file and the size-capped readers (util/file_limits.h) open through it.
std::ifstream open_for_reading(const std::filesystem::path& path);

// Writes `contents` to `path` atomically (a temporary file in the same directory, synced, then
// renamed over `path`; util/atomic_file.h). Throws Error "cannot write 'PATH': CAUSE" on
// failure (a full disk, a file size limit, a read-only filesystem), in which case `path` is
// untouched and no temporary file is left.
void write_file_atomic(const std::filesystem::path& path, const std::string& contents);

// Streaming variant for large outputs: `write` fills the temporary file's stream, whose failed
// writes throw that Error at once (the stream has exceptions(badbit) set). If `write` throws,
// the temporary file is removed and `path` is untouched; the exception propagates unchanged.
void write_file_atomic(const std::filesystem::path& path,
                       const std::function<void(std::ostream&)>& write);

// Throws Error "cannot write 'PATH': CAUSE", CAUSE being errno's text for `error_number`.
[[noreturn]] void fail_writing(const std::filesystem::path& path, int error_number);
[[noreturn]] void fail_writing(const std::filesystem::path& path, const std::string& cause);

// Throws Error unless `path`'s directory exists and is writable: used to fail *before* doing
// expensive work whose result could not be saved.
void check_writable(const std::filesystem::path& path);

// An output directory a command creates (with any missing parents), removed again when the
// command fails, so that a failed command leaves no directory behind; one that existed before is
// never removed. The destructor removes what was created unless keep() was called.
class CreatedDirectory {
 public:
  // kWithContents: everything in it is the failed command's partial output (data prepare);
  // kIfEmpty: what a failed command wrote there may be worth keeping (a training log).
  enum class Removal { kWithContents, kIfEmpty };

  // Creates `path`; throws Error naming it when it cannot.
  CreatedDirectory(const std::filesystem::path& path, Removal removal);
  ~CreatedDirectory();
  CreatedDirectory(const CreatedDirectory&) = delete;
  CreatedDirectory& operator=(const CreatedDirectory&) = delete;

  void keep() { keep_ = true; }  // the command succeeded

 private:
  std::filesystem::path path_;
  std::filesystem::path created_;  // the outermost directory created; empty when none was
  Removal removal_;
  bool keep_ = false;
};

}  // namespace moeplan
