#include "util/files.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "util/error.h"
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

std::string read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    fail("cannot read ", quoted(path), ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read ", quoted(path), ": ", std::strerror(errno));
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

void write_file_atomic(const std::filesystem::path& path, const std::string& contents) {
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  });
}

void write_file_atomic(const std::filesystem::path& path,
                       const std::function<void(std::ostream&)>& write) {
  check_writable(path);
  std::random_device rd;
  auto tmp = path;
  tmp += ".tmp" + std::to_string(rd());
  // Never throws: cleanup must not replace the error that caused it.
  const auto remove_tmp = [&tmp] {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
  };
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot write ", quoted(path), ": ", std::strerror(errno));
    try {
      write(out);
      out.flush();
    } catch (...) {
      out.close();
      remove_tmp();
      throw;
    }
    if (!out) {
      out.close();
      remove_tmp();
      fail("cannot write ", quoted(path), ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    remove_tmp();
    fail("cannot write ", quoted(path), ": ", ec.message());
  }
}

}  // namespace moeplan
