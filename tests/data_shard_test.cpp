// llm.c token shards: exact header layout, round trips, and clear errors for truncated or
// corrupt files; the deterministic data order built on them.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <fstream>

#include "tests/support/cli_runner.h"
#include "tests/support/expect_error.h"
#include "util/error.h"
#include "verify/data/data_loader.h"
#include "verify/data/shard.h"

namespace moeplan::verify {
namespace {

using moeplan::testing::TempDir;

using moeplan::testing::error_of;

std::array<std::int32_t, 256> header_of(const std::filesystem::path& p) {
  std::array<std::int32_t, 256> h{};
  std::ifstream in(p, std::ios::binary);
  in.read(reinterpret_cast<char*>(h.data()), 1024);
  return h;
}

void write_raw(const std::filesystem::path& p, std::array<std::int32_t, 256> header,
               std::size_t payload_bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(header.data()), 1024);
  out << std::string(payload_bytes, '\x01');
}

TEST(Shard, Uint16LayoutIsLlmcsVersionOne) {
  TempDir dir;
  const auto p = dir / "x_train_000000.bin";
  write_shard(p, {1, 2, 65535, 7}, false);
  const auto h = header_of(p);
  EXPECT_EQ(h[0], 20240520);
  EXPECT_EQ(h[1], 1);
  EXPECT_EQ(h[2], 4);
  EXPECT_EQ(h[3], 0);
  EXPECT_EQ(std::filesystem::file_size(p), 1024u + 4 * 2);
  const auto info = read_shard_header(p);
  EXPECT_EQ(info.tokens, 4);
  EXPECT_EQ(info.bytes_per_token, 2);
  EXPECT_EQ(read_shard_tokens(info, 1, 3), (std::vector<std::int32_t>{2, 65535, 7}));
}

TEST(Shard, Uint32LayoutIsLlmcsVersionSeven) {
  TempDir dir;
  const auto p = dir / "x_val_000000.bin";
  write_shard(p, {100000, 3, 128255}, true);
  const auto h = header_of(p);
  EXPECT_EQ(h[0], 20240801);
  EXPECT_EQ(h[1], 7);
  EXPECT_EQ(h[2], 3);
  EXPECT_EQ(std::filesystem::file_size(p), 1024u + 3 * 4);
  const auto info = read_shard_header(p);
  EXPECT_EQ(read_shard_tokens(info, 0, 3), (std::vector<std::int32_t>{100000, 3, 128255}));
  EXPECT_NE(error_of([&] { write_shard(dir / "y.bin", {70000}, false); }).find("uint16"),
            std::string::npos);
}

TEST(Shard, ClearErrorsForBadFiles) {
  TempDir dir;
  std::array<std::int32_t, 256> h{};
  h[0] = 20240520;
  h[1] = 1;
  h[2] = 10;
  write_raw(dir / "truncated.bin", h, 12);  // 6 of 10 tokens
  EXPECT_NE(error_of([&] { read_shard_header(dir / "truncated.bin"); }).find("truncated"),
            std::string::npos);
  write_raw(dir / "long.bin", h, 24);
  EXPECT_NE(error_of([&] { read_shard_header(dir / "long.bin"); }).find("after its last token"),
            std::string::npos);
  h[0] = 12345;
  write_raw(dir / "magic.bin", h, 20);
  const auto magic = error_of([&] { read_shard_header(dir / "magic.bin"); });
  EXPECT_NE(magic.find("bad magic number 12345"), std::string::npos) << magic;
  EXPECT_NE(magic.find("magic.bin"), std::string::npos);
  h[0] = 20240520;
  h[1] = 7;  // the uint32 version with the uint16 magic
  write_raw(dir / "version.bin", h, 20);
  EXPECT_NE(error_of([&] { read_shard_header(dir / "version.bin"); }).find("version 7"),
            std::string::npos);
  moeplan::testing::write_text_file(dir / "short.bin", "tiny");
  EXPECT_NE(error_of([&] { read_shard_header(dir / "short.bin"); }).find("1024-byte"),
            std::string::npos);
}

TEST(Shard, FindsLlmcNamesPerSplit) {
  TempDir dir;
  write_shard(dir / "fineweb_train_000002.bin", {1, 2}, false);
  write_shard(dir / "fineweb_train_000001.bin", {1, 2}, false);
  write_shard(dir / "TinyStories_train.bin", {1, 2}, false);
  write_shard(dir / "fineweb_val_000000.bin", {1, 2}, false);
  moeplan::testing::write_text_file(dir / "notes_train.txt", "not a shard");
  const auto train = find_shards(dir.path(), "train");
  ASSERT_EQ(train.size(), 3u);
  EXPECT_EQ(train[0].path.filename(), "TinyStories_train.bin");
  EXPECT_EQ(train[1].path.filename(), "fineweb_train_000001.bin");
  EXPECT_EQ(find_shards(dir.path(), "val").size(), 1u);
  EXPECT_NE(error_of([&] { find_shards(dir / "missing", "train"); }).find("no such directory"),
            std::string::npos);
}

std::vector<std::uint32_t> iota_tokens(std::uint32_t n, std::uint32_t modulo) {
  std::vector<std::uint32_t> t(n);
  for (std::uint32_t i = 0; i < n; ++i) t[i] = i % modulo;
  return t;
}

TEST(DataLoader, WindowsShiftTargetsByOneAndStayInsideShards) {
  TempDir dir;
  write_shard(dir / "a_train_000000.bin", iota_tokens(20, 1000), false);  // 4 windows of 4+1
  write_shard(dir / "a_train_000001.bin", iota_tokens(9, 1000), false);   // 2 windows
  WindowSet windows(find_shards(dir.path(), "train"), 4, 1000, "training");
  EXPECT_EQ(windows.size(), 6);
  TokenBatch b;
  windows.append(1, &b);
  EXPECT_EQ(b.inputs, (std::vector<std::int32_t>{4, 5, 6, 7}));
  EXPECT_EQ(b.targets, (std::vector<std::int32_t>{5, 6, 7, 8}));
  EXPECT_THROW(WindowSet(find_shards(dir.path(), "train"), 4, 10, "training").append(3, &b), Error);
  EXPECT_THROW(WindowSet(find_shards(dir.path(), "train"), 64, 1000, "training"), Error);
}

TEST(DataLoader, OrderIsAPureFunctionOfSeedAndPosition) {
  TempDir dir;
  write_shard(dir / "a_train_000000.bin", iota_tokens(401, 1000), false);  // 100 windows of 4
  const auto shards = find_shards(dir.path(), "train");
  TrainSampler a(WindowSet(shards, 4, 1000, "training"), 7),
      b(WindowSet(shards, 4, 1000, "training"), 7);
  TrainSampler c(WindowSet(shards, 4, 1000, "training"), 8);
  const auto whole = a.batch(90, 20);  // crosses into the second epoch
  const auto later = b.batch(100, 10);
  EXPECT_TRUE(std::equal(later.inputs.begin(), later.inputs.end(), whole.inputs.begin() + 40));
  EXPECT_NE(c.batch(90, 20).inputs, whole.inputs);
  // An epoch visits every window once.
  std::vector<int> seen(100, 0);
  const auto epoch = a.batch(0, 100);
  for (std::size_t i = 0; i < 100; ++i) ++seen[static_cast<std::size_t>(epoch.inputs[4 * i] / 4)];
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 100);
}

TEST(DataLoader, ValidationTakesTheFirstWindowsInBatches) {
  TempDir dir;
  write_shard(dir / "a_val_000000.bin", iota_tokens(41, 1000), false);  // 10 windows of 4
  const WindowSet windows(find_shards(dir.path(), "val"), 4, 1000, "validation");
  const auto batches = validation_batches(windows, 26, 3);  // ceil(26/4) = 7 windows
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].count + batches[1].count + batches[2].count, 7);
  EXPECT_EQ(batches[0].inputs[0], 0);
  EXPECT_EQ(batches[2].inputs[0], 24);
  EXPECT_EQ(validation_batches(windows, 1000000, 4).size(), 3u);  // capped at the split's 10
}

}  // namespace
}  // namespace moeplan::verify
