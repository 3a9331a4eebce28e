#pragma once
// The temporary file behind write_file_atomic (util/files.h): written in the target's directory
// and renamed over the target only when complete, so the previous file stays whole until then.
#include <filesystem>

namespace moeplan {

class AtomicFile {
 public:
  // Opens the temporary file: where the filesystem allows, an unnamed one (O_TMPFILE), which
  // leaves nothing behind even if the process is killed while writing it; else a named
  // `TARGET.tmpNNN`. Throws Error naming `target` and the cause.
  explicit AtomicFile(const std::filesystem::path& target);
  // Removes the temporary file unless commit() succeeded; never throws.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  int fd() const { return fd_; }
  // Makes the written bytes durable and puts them in place of the target. Throws Error naming
  // the target and the cause; the target is then unchanged.
  void commit();

 private:
  void open_named();
  bool link_unnamed();

  std::filesystem::path target_;
  std::filesystem::path temp_;  // the named temporary file; empty while it has no name
  int fd_ = -1;
};

}  // namespace moeplan
