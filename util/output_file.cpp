#include "util/output_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/error.h"
#include "util/files.h"

namespace moeplan {
namespace {

// Big enough that a log line or a CSV row is one write(2); checkpoints bypass it.
constexpr std::size_t kStreamBufferBytes = std::size_t{1} << 16;
// One write(2) at most this much: Linux moves at most about 2 GiB per call anyway.
constexpr std::size_t kMaxWriteBytes = std::size_t{1} << 30;

}  // namespace

void write_all(int fd, const char* data, std::size_t bytes, const std::filesystem::path& path) {
  while (bytes > 0) {
    const ssize_t written = ::write(fd, data, std::min(bytes, kMaxWriteBytes));
    if (written < 0) {
      if (errno == EINTR) continue;
      fail_writing(path, errno);
    }
    if (written == 0) fail_writing(path, ENOSPC);  // no progress and no error: treat as full
    data += written;
    bytes -= static_cast<std::size_t>(written);
  }
}

FileStreambuf::FileStreambuf(int fd, std::filesystem::path path)
    : fd_(fd), path_(std::move(path)), buffer_(kStreamBufferBytes) {
  setp(buffer_.data(), buffer_.data() + buffer_.size());
}

void FileStreambuf::flush_buffer() {
  const auto pending = static_cast<std::size_t>(pptr() - pbase());
  // Emptied first: after a failure the bytes are not written again by a later flush.
  setp(buffer_.data(), buffer_.data() + buffer_.size());
  write_all(fd_, buffer_.data(), pending, path_);
}

FileStreambuf::int_type FileStreambuf::overflow(int_type ch) {
  flush_buffer();
  if (!traits_type::eq_int_type(ch, traits_type::eof())) {
    *pptr() = traits_type::to_char_type(ch);
    pbump(1);
  }
  return traits_type::not_eof(ch);
}

std::streamsize FileStreambuf::xsputn(const char* data, std::streamsize count) {
  const auto bytes = static_cast<std::size_t>(count);
  if (bytes <= static_cast<std::size_t>(epptr() - pptr())) {
    std::memcpy(pptr(), data, bytes);
    pbump(static_cast<int>(count));
    return count;
  }
  flush_buffer();
  if (bytes < buffer_.size()) {
    std::memcpy(pptr(), data, bytes);
    pbump(static_cast<int>(count));
  } else {
    write_all(fd_, data, bytes, path_);
  }
  return count;
}

int FileStreambuf::sync() {
  flush_buffer();
  return 0;
}

FileStream::FileStream(int fd, const std::filesystem::path& path)
    : std::ostream(nullptr), buffer_(fd, path) {
  rdbuf(&buffer_);
  exceptions(std::ios::badbit);  // a failed write throws the streambuf's Error
}

namespace {

int open_for_append(const std::filesystem::path& path, AppendFile::Start start) {
  const int truncate = start == AppendFile::Start::kTruncate ? O_TRUNC : 0;
  int fd;
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | truncate, 0666);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail_writing(path, errno);
  return fd;
}

}  // namespace

AppendFile::AppendFile(const std::filesystem::path& path, Start start)
    : path_(path), fd_(open_for_append(path, start)), stream_(fd_, path) {}

AppendFile::~AppendFile() {
  try {
    stream_.flush_buffer();
  } catch (...) {  // a destructor must not throw; whoever cares flushes and learns of it
  }
  ::close(fd_);
}

}  // namespace moeplan
