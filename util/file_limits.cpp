#include "util/file_limits.h"

#include <array>

#include "util/error.h"
#include "util/files.h"
#include "util/units.h"

namespace moeplan {

void check_file_size(const std::filesystem::path& path, std::uintmax_t max_bytes,
                     const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return;  // a pipe, a directory: read_file says
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size <= max_bytes) return;
  fail(what, " ", path.string(), " is ", size, " bytes, over the ",
       format_bytes(static_cast<double>(max_bytes)), " limit for a ", what);
}

std::ifstream open_input_file(const std::filesystem::path& path, std::uintmax_t max_bytes,
                              const std::string& what) {
  check_file_size(path, max_bytes, what);
  return open_for_reading(path);
}

std::string read_file(const std::filesystem::path& path, std::uintmax_t max_bytes,
                      const std::string& what) {
  std::ifstream in = open_input_file(path, max_bytes, what);
  // Counted while reading too: a pipe or a file still growing has no size to check first.
  std::string text;
  std::array<char, 1 << 16> chunk;
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes)
      fail(what, " ", path.string(), " is more than the ",
           format_bytes(static_cast<double>(max_bytes)), " limit for a ", what);
  }
  return text;
}

}  // namespace moeplan
