#include "verify/shard.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <regex>

#include "util/error.h"
#include "util/files.h"

namespace moeplan::verify {

ShardInfo read_shard_header(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) fail("cannot read token shard ", path.string(), ": ", ec.message());
  if (size < static_cast<std::uintmax_t>(kShardHeaderBytes)) {
    fail("token shard ", path.string(), " is truncated: ", size,
         " bytes, shorter than the 1024-byte llm.c header");
  }
  std::ifstream in(path, std::ios::binary);
  std::array<std::int32_t, 256> header{};
  if (!in.read(reinterpret_cast<char*>(header.data()), kShardHeaderBytes)) {
    fail("cannot read the header of token shard ", path.string());
  }
  ShardInfo info{path, header[2], 2};
  if (header[0] == kShardMagicU16) {
    if (header[1] != kShardVersionU16) {
      fail("token shard ", path.string(), " has magic ", kShardMagicU16, " but version ", header[1],
           " (llm.c uses version ", kShardVersionU16, " with uint16 tokens)");
    }
  } else if (header[0] == kShardMagicU32) {
    if (header[1] != kShardVersionU32) {
      fail("token shard ", path.string(), " has magic ", kShardMagicU32, " but version ", header[1],
           " (llm.c uses version ", kShardVersionU32, " with uint32 tokens)");
    }
    info.bytes_per_token = 4;
  } else {
    fail("token shard ", path.string(), " has bad magic number ", header[0],
         ": not an llm.c shard (expected ", kShardMagicU16, " or ", kShardMagicU32, ")");
  }
  if (info.tokens < 0)
    fail("token shard ", path.string(), " has a negative token count ", header[2]);
  const auto expected =
      static_cast<std::uintmax_t>(kShardHeaderBytes + info.tokens * info.bytes_per_token);
  if (size < expected) {
    fail("token shard ", path.string(), " is truncated: its header promises ", info.tokens,
         " tokens (", expected, " bytes) but the file has ", size, " bytes");
  }
  if (size > expected) {
    fail("token shard ", path.string(), " has ", size - expected,
         " bytes after its last token: header says ", info.tokens, " tokens (", expected,
         " bytes)");
  }
  return info;
}

std::vector<std::int32_t> read_shard_tokens(const ShardInfo& shard, std::int64_t begin,
                                            std::int64_t count) {
  if (begin < 0 || count < 0 || begin + count > shard.tokens) {
    fail("read of tokens [", begin, ", ", begin + count, ") past the end of ", shard.path.string(),
         " (", shard.tokens, " tokens)");
  }
  std::ifstream in(shard.path, std::ios::binary);
  in.seekg(kShardHeaderBytes + begin * shard.bytes_per_token);
  std::vector<char> raw(static_cast<std::size_t>(count * shard.bytes_per_token));
  if (!in.read(raw.data(), static_cast<std::streamsize>(raw.size()))) {
    fail("cannot read tokens from ", shard.path.string(), " (was it truncated since?)");
  }
  std::vector<std::int32_t> tokens(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (shard.bytes_per_token == 2) {
      std::uint16_t t;
      std::memcpy(&t, raw.data() + 2 * i, 2);
      tokens[i] = t;
    } else {
      std::uint32_t t;
      std::memcpy(&t, raw.data() + 4 * i, 4);
      if (t > 0x7fffffffu) fail("token id ", t, " in ", shard.path.string(), " is too large");
      tokens[i] = static_cast<std::int32_t>(t);
    }
  }
  return tokens;
}

void write_shard(const std::filesystem::path& path, const std::vector<std::uint32_t>& tokens,
                 bool wide) {
  if (tokens.size() >= (1ull << 31)) fail("too many tokens for one llm.c shard: ", tokens.size());
  std::array<std::int32_t, 256> header{};
  header[0] = wide ? kShardMagicU32 : kShardMagicU16;
  header[1] = wide ? kShardVersionU32 : kShardVersionU16;
  header[2] = static_cast<std::int32_t>(tokens.size());
  std::string bytes(reinterpret_cast<const char*>(header.data()), kShardHeaderBytes);
  const std::size_t width = wide ? 4 : 2;
  bytes.resize(bytes.size() + tokens.size() * width);
  char* out = bytes.data() + kShardHeaderBytes;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (wide) {
      std::memcpy(out + 4 * i, &tokens[i], 4);
    } else {
      if (tokens[i] > 0xffffu) fail("token id ", tokens[i], " does not fit a uint16 shard");
      const auto t = static_cast<std::uint16_t>(tokens[i]);
      std::memcpy(out + 2 * i, &t, 2);
    }
  }
  write_file_atomic(path, bytes);
}

std::vector<ShardInfo> find_shards(const std::filesystem::path& dir, const std::string& split) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    fail("data directory ", dir.string(), " does not exist");
  const std::regex pattern(".*_" + split + "(_[0-9]+)?\\.bin");
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && std::regex_match(entry.path().filename().string(), pattern)) {
      paths.push_back(entry.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<ShardInfo> shards;
  for (const auto& p : paths) shards.push_back(read_shard_header(p));
  return shards;
}

}  // namespace moeplan::verify
