#pragma once
// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length n, an
// n-byte JSON header {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
// {string: string}} (padded with spaces to a multiple of 8), then the raw little-endian data;
// offsets are relative to the end of the header. moeplan writes F32 and reads F32, BF16 and F16.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "verify/backend.h"

namespace moeplan::verify {

// The largest header read_safetensors reads (about the safetensors library's own limit,
// 100,000,000 bytes): a header length past it, or past the file, is refused before anything is
// allocated.
inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = std::uint64_t{100} << 20;

struct SafetensorsContent {
  std::vector<HostTensor> tensors;  // in file (data offset) order, converted to fp32
  std::map<std::string, std::string> metadata;
};

// Writes F32 tensors atomically (temporary file in the same directory, then rename), so an
// existing file at `path` is either kept or replaced whole.
void write_safetensors(const std::filesystem::path& path, const std::vector<HostTensor>& tensors,
                       const std::map<std::string, std::string>& metadata);

// Reads and validates (header size, JSON, dtypes, shapes against byte ranges, offsets inside
// the file and not overlapping); throws moeplan::Error naming the file and the problem.
SafetensorsContent read_safetensors(const std::filesystem::path& path);

}  // namespace moeplan::verify
