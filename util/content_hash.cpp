#include "util/content_hash.h"

#include <cstdint>
#include <cstdio>

#include "util/files.h"

namespace moeplan {

std::string content_hash(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64-bit offset basis and prime
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

std::string file_content_hash(const std::filesystem::path& path) {
  return content_hash(read_file(path));
}

}  // namespace moeplan
