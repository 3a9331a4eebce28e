#include "verify/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/files.h"
#include "util/json_text.h"

namespace moeplan::verify {
namespace {

using nlohmann::json;

float bf16_to_float(std::uint16_t h) {
  const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float f16_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h >> 15) & 1u, exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    magnitude =
        mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else {
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
  }
  return sign ? -magnitude : magnitude;
}

}  // namespace

void write_safetensors(const std::filesystem::path& path, const std::vector<HostTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (numel(t.shape) != static_cast<std::int64_t>(t.data.size())) {
      fail("tensor '", t.name, "' has ", t.data.size(), " values for its shape");
    }
    const std::uint64_t bytes = t.data.size() * sizeof(float);
    header[t.name] = {
        {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const std::uint64_t length = text.size();

  write_file_atomic(path, [&](std::ostream& out) {
    char le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<char>((length >> (8 * i)) & 0xffu);
    out.write(le, 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : tensors) {
      out.write(reinterpret_cast<const char*>(t.data.data()),
                static_cast<std::streamsize>(t.data.size() * sizeof(float)));
    }
  });
}

namespace {

// One tensor's entry in the header, before its data is read.
struct SafetensorsEntry {
  std::uint64_t begin, end;
  std::string name, dtype;
  std::vector<std::int64_t> shape;
};

// The header's length (little-endian u64) and its JSON object, checked against the file's size
// and the limits before anything the header claims is allocated.
json read_safetensors_header(std::ifstream& in, const std::string& where,
                             std::uint64_t file_size, std::uint64_t* length) {
  unsigned char le[8];
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(le), 8)) {
    fail(where, " is not a safetensors file: shorter than its 8-byte header length");
  }
  *length = 0;
  for (int i = 0; i < 8; ++i) *length |= static_cast<std::uint64_t>(le[i]) << (8 * i);
  if (*length > file_size - 8) {
    fail(where, " is not a valid safetensors file: header length ", *length,
         " does not fit in the file's ", file_size, " bytes");
  }
  if (*length > kMaxSafetensorsHeaderBytes) {
    fail(where, " is not a valid safetensors file: header length ", *length, " is over the ",
         kMaxSafetensorsHeaderBytes, "-byte limit");
  }
  std::string text(*length, '\0');
  in.read(text.data(), static_cast<std::streamsize>(*length));
  check_json_depth(text, where + "'s safetensors header");
  json header;
  try {
    header = json::parse(text);
  } catch (const json::exception&) {
    fail(where, " is not a valid safetensors file: its header is not JSON");
  }
  if (!header.is_object()) fail(where, ": the safetensors header is not a JSON object");
  return header;
}

// The tensor entries in data order; the metadata goes into `metadata`.
std::vector<SafetensorsEntry> header_entries(const json& header, const std::string& where,
                                             std::map<std::string, std::string>* metadata) {
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) fail(where, ": __metadata__ is not an object");
      for (const auto& [k, v] : info.items()) {
        if (!v.is_string()) fail(where, ": metadata value '", k, "' is not a string");
        (*metadata)[k] = v.get<std::string>();
      }
      continue;
    }
    try {
      entries.push_back({info.at("data_offsets").at(0).get<std::uint64_t>(),
                         info.at("data_offsets").at(1).get<std::uint64_t>(), name,
                         info.at("dtype").get<std::string>(),
                         info.at("shape").get<std::vector<std::int64_t>>()});
    } catch (const json::exception&) {
      fail(where, ": tensor '", name, "' lacks a valid dtype, shape or data_offsets");
    }
  }
  std::sort(entries.begin(), entries.end(),
            [](const SafetensorsEntry& a, const SafetensorsEntry& b) { return a.begin < b.begin; });
  return entries;
}

// Bytes per element of a dtype moeplan reads.
std::uint64_t dtype_width(const SafetensorsEntry& e, const std::string& where) {
  if (e.dtype == "F32") return 4;
  if (e.dtype == "BF16" || e.dtype == "F16") return 2;
  fail(where, ": tensor '", e.name, "' has dtype ", e.dtype, " (moeplan reads F32, BF16, F16)");
}

// The element count, checked: a hostile shape ([2^62, 4]) wraps to a small size that matches
// its offsets.
std::uint64_t checked_numel(const SafetensorsEntry& e, std::uint64_t width,
                            const std::string& where) {
  std::uint64_t numel = 1, bytes = 0;
  bool overflow = false;
  for (auto s : e.shape) {
    if (s < 0) fail(where, ": tensor '", e.name, "' has a negative dimension");
    overflow |= __builtin_mul_overflow(numel, static_cast<std::uint64_t>(s), &numel);
  }
  overflow |= __builtin_mul_overflow(numel, width, &bytes);
  if (overflow) fail(where, ": tensor '", e.name, "' has a shape of more than 2^64 bytes");
  return numel;
}

}  // namespace

SafetensorsContent read_safetensors(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::error_code ec;
  const auto file_size = std::filesystem::file_size(path, ec);
  if (ec) fail("cannot read safetensors file ", where, ": ", ec.message());
  std::ifstream in(path, std::ios::binary);
  std::uint64_t length = 0;
  const json header = read_safetensors_header(in, where, file_size, &length);
  const std::uint64_t data_size = file_size - 8 - length;

  SafetensorsContent content;
  std::uint64_t previous_end = 0;
  for (const auto& e : header_entries(header, where, &content.metadata)) {
    const std::uint64_t width = dtype_width(e, where);
    const std::uint64_t numel = checked_numel(e, width, where);
    const std::uint64_t bytes = numel * width;
    if (e.end < e.begin || e.end > data_size || e.begin < previous_end) {
      fail(where, ": tensor '", e.name, "' has data offsets [", e.begin, ", ", e.end,
           ") outside the ", data_size, "-byte data section or overlapping another tensor");
    }
    if (e.end - e.begin != bytes) {
      fail(where, ": tensor '", e.name, "' has ", e.end - e.begin,
           " bytes but its shape and dtype need ", bytes);
    }
    previous_end = e.end;
    std::vector<char> raw(e.end - e.begin);
    in.seekg(static_cast<std::streamoff>(8 + length + e.begin));
    if (!in.read(raw.data(), static_cast<std::streamsize>(raw.size()))) fail("cannot read ", where);
    HostTensor t{e.name, e.shape, std::vector<float>(numel)};
    for (std::size_t i = 0; i < numel; ++i) {
      if (width == 4) {
        std::memcpy(&t.data[i], raw.data() + 4 * i, 4);
      } else {
        std::uint16_t h;
        std::memcpy(&h, raw.data() + 2 * i, 2);
        t.data[i] = e.dtype == "BF16" ? bf16_to_float(h) : f16_to_float(h);
      }
    }
    content.tensors.push_back(std::move(t));
  }
  return content;
}

}  // namespace moeplan::verify
