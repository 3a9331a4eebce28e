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

// Reads and checks the header against the file size; throws moeplan::Error naming the file and
// what is wrong (too short, bad magic, version not matching the magic, truncated, trailing bytes).
ShardInfo read_shard_header(const std::filesystem::path& path);

// Tokens [begin, begin + count) of the shard, widened to int32.
std::vector<std::int32_t> read_shard_tokens(const ShardInfo& shard, std::int64_t begin,
                                            std::int64_t count);

// Writes a shard atomically: uint16 when every id is < 65536 (wide = false), else uint32.
void write_shard(const std::filesystem::path& path, const std::vector<std::uint32_t>& tokens,
                 bool wide);

// The shards of one split ("train" or "val") in `dir`, sorted by name: files *_<split>.bin and
// *_<split>_<digits>.bin. Headers are read and checked.
std::vector<ShardInfo> find_shards(const std::filesystem::path& dir, const std::string& split);

}  // namespace moeplan::verify
