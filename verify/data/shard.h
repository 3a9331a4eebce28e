#pragma once
// llm.c token shards (karpathy/llm.c dev/data/data_common.py write_datafile, llmc/dataloader.h):
// a header of 256 little-endian int32 — [0] magic, [1] version, [2] token count, the rest 0 —
// then the tokens: magic 20240520 / version 1 with uint16 tokens (GPT-2 style), or magic
// 20240801 / version 7 with uint32 tokens (Llama-3 style). The file is exactly
// 1024 + count·width bytes. Names follow llm.c: <name>_train_000000.bin, <name>_val_000000.bin
// (TinyStories_train.bin and TinyStories_val.bin are found too).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace moeplan::verify {

inline constexpr std::int32_t kShardMagicU16 = 20240520;
inline constexpr std::int32_t kShardVersionU16 = 1;
inline constexpr std::int32_t kShardMagicU32 = 20240801;
inline constexpr std::int32_t kShardVersionU32 = 7;
inline constexpr std::int64_t kShardHeaderBytes = 256 * 4;

struct ShardInfo {
  std::filesystem::path path;
  std::int64_t tokens = 0;
  int bytes_per_token = 2;  // 2 (uint16) or 4 (uint32)
};

// A shard mapped read-only into memory (POSIX mmap) for its lifetime, so reading a window on
// the training hot path is a widening copy, with no file open, seek or read per sequence.
// Move-only; unmaps on destruction.
class MappedShard {
 public:
  // Opens, maps and checks the header against the file size; throws moeplan::Error naming the
  // file and what is wrong (too short, bad magic, version not matching the magic, truncated,
  // trailing bytes).
  explicit MappedShard(const std::filesystem::path& path);
  MappedShard(MappedShard&& other) noexcept;
  MappedShard& operator=(MappedShard&& other) noexcept;
  MappedShard(const MappedShard&) = delete;
  MappedShard& operator=(const MappedShard&) = delete;
  ~MappedShard();

  const ShardInfo& info() const { return info_; }
  // Writes tokens [begin, begin + count) widened to int32 to out[0, count); throws on a range
  // past the end or a uint32 id that does not fit int32.
  void copy_tokens(std::int64_t begin, std::int64_t count, std::int32_t* out) const;
  // Index of the first token in [begin, end) whose id is >= limit, or -1 when there is none.
  std::int64_t find_token_at_least(std::int64_t begin, std::int64_t end, std::int64_t limit) const;

 private:
  std::uint32_t token(std::int64_t i) const;
  ShardInfo info_;
  const unsigned char* data_ = nullptr;  // the whole file, header included
  std::size_t mapped_bytes_ = 0;
};

// The checked header of a shard (MappedShard's checks).
ShardInfo read_shard_header(const std::filesystem::path& path);

// Tokens [begin, begin + count) of the shard, widened to int32. Maps the file per call: for
// tools and tests; the training loop holds MappedShards instead.
std::vector<std::int32_t> read_shard_tokens(const ShardInfo& shard, std::int64_t begin,
                                            std::int64_t count);

// Writes a shard atomically: uint16 when every id is < 65536 (wide = false), else uint32.
void write_shard(const std::filesystem::path& path, const std::vector<std::uint32_t>& tokens,
                 bool wide);

// Throws Error "data directory DIR: no such directory" (or "is not a directory").
void require_data_directory(const std::filesystem::path& dir);

// The shards of one split ("train" or "val") in `dir`, sorted by name: files *_<split>.bin and
// *_<split>_<digits>.bin. Headers are read and checked.
std::vector<ShardInfo> find_shards(const std::filesystem::path& dir, const std::string& split);

}  // namespace moeplan::verify
