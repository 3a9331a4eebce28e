#pragma once
// A content hash for provenance records (which law file, which ledger a prediction was made
// from): 64-bit FNV-1a, as 16 hex digits. Not cryptographic: it tells files apart, it does not
// resist forgery.
#include <filesystem>
#include <string>
#include <string_view>

namespace moeplan {

std::string content_hash(std::string_view bytes);
// The hash of a file's bytes; throws Error naming the path when it cannot be read.
std::string file_content_hash(const std::filesystem::path& path);

}  // namespace moeplan
