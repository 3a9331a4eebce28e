#include "util/files.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/atomic_file.h"
#include "util/error.h"
#include "util/output_file.h"
#include "util/text.h"

namespace moeplan {
namespace {

// A path in an error: long enough for any real path's tail to be seen, cut before a runaway
// argument floods the terminal.
constexpr std::size_t kPathExcerptChars = 240;
std::string quoted(const std::filesystem::path& path) {
  return quoted_excerpt(path.string(), kPathExcerptChars);
}

}  // namespace

std::ifstream open_for_reading(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    fail("cannot read ", quoted(path), ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read ", quoted(path), ": ", std::strerror(errno));
  return in;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in = open_for_reading(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void check_writable(const std::filesystem::path& path) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    fail("cannot write ", quoted(path), ": directory ", quoted(dir), " does not exist");
  if (std::filesystem::is_directory(path, ec))
    fail("cannot write ", quoted(path), ": is a directory");
  if (::access(dir.c_str(), W_OK) != 0)
    fail("cannot write ", quoted(path), ": ", std::strerror(errno));
}

void fail_writing(const std::filesystem::path& path, int error_number) {
  fail_writing(path, std::strerror(error_number));
}

void fail_writing(const std::filesystem::path& path, const std::string& cause) {
  fail("cannot write ", quoted(path), ": ", cause);
}

void write_file_atomic(const std::filesystem::path& path, const std::string& contents) {
  check_writable(path);
  AtomicFile file(path);  // removes the temporary file when anything below throws
  write_all(file.fd(), contents.data(), contents.size(), path);
  file.commit();
}

void write_file_atomic(const std::filesystem::path& path,
                       const std::function<void(std::ostream&)>& write) {
  check_writable(path);
  AtomicFile file(path);
  FileStream out(file.fd(), path);
  write(out);
  out.flush_buffer();
  file.commit();
}

CreatedDirectory::CreatedDirectory(const std::filesystem::path& path, Removal removal)
    : path_(path.lexically_normal()), removal_(removal) {
  if (!path_.has_filename()) path_ = path_.parent_path();  // "run/" is "run"
  std::error_code ec;
  for (auto p = path_; !p.empty() && !std::filesystem::exists(p, ec); p = p.parent_path()) {
    created_ = p;
    if (p == p.parent_path()) break;  // the root
  }
  std::filesystem::create_directories(path, ec);
  if (ec) fail("cannot create output directory ", path.string(), ": ", ec.message());
}

CreatedDirectory::~CreatedDirectory() {
  if (keep_ || created_.empty()) return;
  std::error_code ignored;  // cleanup must not replace the error that caused it
  if (removal_ == Removal::kWithContents) {
    std::filesystem::remove_all(created_, ignored);
    return;
  }
  // Innermost first; remove() refuses a directory that is not empty, and so stops there.
  for (auto p = path_; !p.empty(); p = p.parent_path()) {
    if (!std::filesystem::remove(p, ignored)) return;
    if (p == created_) return;
  }
}

}  // namespace moeplan
