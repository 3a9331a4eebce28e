#include "verify/data/shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <regex>
#include <utility>

#include "util/error.h"
#include "util/files.h"

namespace moeplan::verify {

MappedShard::MappedShard(const std::filesystem::path& path) : info_{path, 0, 2} {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot read token shard ", path.string(), ": ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail("cannot read token shard ", path.string(), ": ", std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("cannot read token shard ", path.string(), ": not a regular file");
  }
  const auto size = static_cast<std::uintmax_t>(st.st_size);
  if (size < static_cast<std::uintmax_t>(kShardHeaderBytes)) {
    ::close(fd);
    fail("token shard ", path.string(), " is truncated: ", size,
         " bytes, shorter than the 1024-byte llm.c header");
  }
  void* mapped = ::mmap(nullptr, static_cast<std::size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (mapped == MAP_FAILED) {
    fail("cannot map token shard ", path.string(), ": ", std::strerror(map_errno));
  }
  data_ = static_cast<const unsigned char*>(mapped);
  mapped_bytes_ = static_cast<std::size_t>(size);
  // From here on the destructor does not run if we throw: unmap by hand on every failure.
  try {
    std::array<std::int32_t, 256> header{};
    std::memcpy(header.data(), data_, kShardHeaderBytes);
    info_.tokens = header[2];
    if (header[0] == kShardMagicU16) {
      if (header[1] != kShardVersionU16) {
        fail("token shard ", path.string(), " has magic ", kShardMagicU16, " but version ",
             header[1], " (llm.c uses version ", kShardVersionU16, " with uint16 tokens)");
      }
    } else if (header[0] == kShardMagicU32) {
      if (header[1] != kShardVersionU32) {
        fail("token shard ", path.string(), " has magic ", kShardMagicU32, " but version ",
             header[1], " (llm.c uses version ", kShardVersionU32, " with uint32 tokens)");
      }
      info_.bytes_per_token = 4;
    } else {
      fail("token shard ", path.string(), " has bad magic number ", header[0],
           ": not an llm.c shard (expected ", kShardMagicU16, " or ", kShardMagicU32, ")");
    }
    if (info_.tokens < 0)
      fail("token shard ", path.string(), " has a negative token count ", header[2]);
    const auto expected =
        static_cast<std::uintmax_t>(kShardHeaderBytes + info_.tokens * info_.bytes_per_token);
    if (size < expected) {
      fail("token shard ", path.string(), " is truncated: its header promises ", info_.tokens,
           " tokens (", expected, " bytes) but the file has ", size, " bytes");
    }
    if (size > expected) {
      fail("token shard ", path.string(), " has ", size - expected,
           " bytes after its last token: header says ", info_.tokens, " tokens (", expected,
           " bytes)");
    }
  } catch (...) {
    ::munmap(const_cast<unsigned char*>(data_), mapped_bytes_);
    throw;
  }
}

MappedShard::MappedShard(MappedShard&& other) noexcept
    : info_(std::move(other.info_)),
      data_(std::exchange(other.data_, nullptr)),
      mapped_bytes_(std::exchange(other.mapped_bytes_, 0)) {}

MappedShard& MappedShard::operator=(MappedShard&& other) noexcept {
  if (this != &other) {
    if (data_) ::munmap(const_cast<unsigned char*>(data_), mapped_bytes_);
    info_ = std::move(other.info_);
    data_ = std::exchange(other.data_, nullptr);
    mapped_bytes_ = std::exchange(other.mapped_bytes_, 0);
  }
  return *this;
}

MappedShard::~MappedShard() {
  if (data_) ::munmap(const_cast<unsigned char*>(data_), mapped_bytes_);
}

std::uint32_t MappedShard::token(std::int64_t i) const {
  const unsigned char* p = data_ + kShardHeaderBytes + i * info_.bytes_per_token;
  if (info_.bytes_per_token == 2) {
    std::uint16_t t;
    std::memcpy(&t, p, 2);
    return t;
  }
  std::uint32_t t;
  std::memcpy(&t, p, 4);
  return t;
}

void MappedShard::copy_tokens(std::int64_t begin, std::int64_t count, std::int32_t* out) const {
  if (begin < 0 || count < 0 || begin + count > info_.tokens) {
    fail("read of tokens [", begin, ", ", begin + count, ") past the end of ", info_.path.string(),
         " (", info_.tokens, " tokens)");
  }
  for (std::int64_t i = 0; i < count; ++i) {
    const std::uint32_t t = token(begin + i);
    if (t > 0x7fffffffu) fail("token id ", t, " in ", info_.path.string(), " is too large");
    out[i] = static_cast<std::int32_t>(t);
  }
}

std::int64_t MappedShard::find_token_at_least(std::int64_t begin, std::int64_t end,
                                              std::int64_t limit) const {
  for (std::int64_t i = std::max<std::int64_t>(begin, 0); i < std::min(end, info_.tokens); ++i) {
    if (static_cast<std::int64_t>(token(i)) >= limit) return i;
  }
  return -1;
}

ShardInfo read_shard_header(const std::filesystem::path& path) {
  return MappedShard(path).info();
}

std::vector<std::int32_t> read_shard_tokens(const ShardInfo& shard, std::int64_t begin,
                                            std::int64_t count) {
  std::vector<std::int32_t> tokens(static_cast<std::size_t>(std::max<std::int64_t>(count, 0)));
  MappedShard(shard.path).copy_tokens(begin, count, tokens.data());
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

void require_data_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec))
    fail("data directory ", dir.string(), ": no such directory");
  if (!std::filesystem::is_directory(dir, ec))
    fail("data directory ", dir.string(), " is not a directory");
}

std::vector<ShardInfo> find_shards(const std::filesystem::path& dir, const std::string& split) {
  require_data_directory(dir);
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
