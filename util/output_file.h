#pragma once
// Output on POSIX file descriptors, where std::ofstream would hide why a write failed: every
// failure throws Error naming the path and the cause (errno's text: "No space left on device",
// "File too large", "Read-only file system") at the write that failed.
#include <cstddef>
#include <filesystem>
#include <ostream>
#include <streambuf>
#include <vector>

namespace moeplan {

// Writes all `bytes` to `fd`, retrying after a signal (EINTR) and after a partial write; throws
// Error naming `path` when the kernel refuses.
void write_all(int fd, const char* data, std::size_t bytes, const std::filesystem::path& path);

// A buffered std::streambuf over a descriptor it does not own. A failed write throws Error from
// inside the stream; a std::ostream passes it on only with exceptions(badbit) set (FileStream
// does), otherwise it just turns bad. Writes of a buffer's size or more skip the buffer, so a
// checkpoint's tensors are not copied again.
class FileStreambuf : public std::streambuf {
 public:
  FileStreambuf(int fd, std::filesystem::path path);
  // Writes out what is buffered; throws Error when it cannot.
  void flush_buffer();

 protected:
  int_type overflow(int_type ch) override;
  std::streamsize xsputn(const char* data, std::streamsize count) override;
  int sync() override;

 private:
  int fd_;
  std::filesystem::path path_;
  std::vector<char> buffer_;
};

// A std::ostream over a FileStreambuf whose failed writes throw (exceptions(badbit)).
class FileStream : public std::ostream {
 public:
  FileStream(int fd, const std::filesystem::path& path);
  FileStream(const FileStream&) = delete;
  FileStream& operator=(const FileStream&) = delete;
  void flush_buffer() { buffer_.flush_buffer(); }

 private:
  FileStreambuf buffer_;
};

// A file written as a run goes (a JSON-lines log, the batch dump, a worker's train.out): each
// flush of stream() reaches the file or throws Error naming the path and the cause, so a full
// disk stops the writer with a clear message instead of losing lines silently.
class AppendFile {
 public:
  enum class Start { kAppend, kTruncate };
  AppendFile(const std::filesystem::path& path, Start start);  // throws Error naming the path
  ~AppendFile();  // writes out what is buffered, quietly: flush the stream to learn of a failure
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  std::ostream& stream() { return stream_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_;  // opened before stream_ is made over it
  FileStream stream_;
};

}  // namespace moeplan
