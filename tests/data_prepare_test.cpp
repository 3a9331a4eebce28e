// `moeplan data prepare`: text -> llm.c shards + manifest, through the library and the binary.
#include "verify/data/data_prepare.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.h"
#include "util/error.h"
#include "verify/data/shard.h"

namespace moeplan::verify {
namespace {

using moeplan::testing::read_text_file;
using moeplan::testing::run_moeplan;
using moeplan::testing::TempDir;
using moeplan::testing::write_text_file;

TEST(DataPrepare, ValidationRule) {
  EXPECT_EQ(validation_token_count(1000, 0.005, 100000), 100);            // 10% of a tiny corpus
  EXPECT_EQ(validation_token_count(10000000, 0.005, 100000), 100000);     // the minimum
  EXPECT_EQ(validation_token_count(1000000000, 0.005, 100000), 5000000);  // the fraction
}

TEST(DataPrepare, BytesShardsCoverTheCorpusInOrder) {
  TempDir dir;
  std::filesystem::create_directories(dir / "in" / "sub");
  std::filesystem::create_directories(dir / "in" / ".git");
  write_text_file(dir / "in" / "b.txt", std::string(600, 'b'));
  write_text_file(dir / "in" / "sub" / "c.txt", std::string(400, 'c'));
  write_text_file(dir / "in" / "a.txt", std::string(1000, 'a'));
  write_text_file(dir / "in" / ".git" / "x.txt", "hidden");
  write_text_file(dir / "in" / "blob.bin", std::string("\x00\x01", 2));
  DataPrepareOptions o;
  o.inputs = {dir / "in"};
  o.out_dir = dir / "out";
  o.shard_tokens = 700;
  const auto s = prepare_data(o);
  EXPECT_EQ(s.documents, 3);
  EXPECT_EQ(s.skipped_files, 1);
  EXPECT_EQ(s.val_tokens, 200);  // 10% of 2000
  EXPECT_EQ(s.train_tokens, 1800);
  const auto train = find_shards(dir / "out", "train");
  ASSERT_EQ(train.size(), 3u);  // 700 + 700 + 400
  EXPECT_EQ(train[0].path.filename(), "data_train_000000.bin");
  EXPECT_EQ(read_shard_tokens(train[0], 0, 1)[0], 'a');
  EXPECT_EQ(read_shard_tokens(train[1], 300, 1)[0], 'b');  // token 1000: b.txt follows a.txt
  const auto val = find_shards(dir / "out", "val");
  ASSERT_EQ(val.size(), 1u);
  EXPECT_EQ(read_shard_tokens(val[0], 0, 200), std::vector<std::int32_t>(200, 'c'));
  const auto manifest = nlohmann::json::parse(read_text_file(dir / "out" / "manifest.json"));
  EXPECT_EQ(manifest["vocab_size"], 256);
  EXPECT_EQ(manifest["tokenizer"], "bytes");
  EXPECT_EQ(manifest["sources"].size(), 3u);
  EXPECT_EQ(manifest_vocab_size(dir / "out"), 256);
  // A second run into the same directory refuses to mix shards.
  EXPECT_THROW(prepare_data(o), Error);
}

TEST(DataPrepareCli, SentencePieceRunWritesTokenizerAndManifest) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "the expert router sends token " + std::to_string(i % 97) + "\n";
  write_text_file(dir / "corpus.txt", text);
  const auto r =
      run_moeplan({"data", "prepare", "--input", (dir / "corpus.txt").string(), "--tokenizer",
                   "sentencepiece:400", "--out", (dir / "out").string(), "--name", "demo"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "tokenizer.model"));
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "demo_train_000000.bin"));
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "demo_val_000000.bin"));
  const auto manifest = nlohmann::json::parse(read_text_file(dir / "out" / "manifest.json"));
  EXPECT_EQ(manifest["tokenizer"], "sentencepiece");
  EXPECT_LE(manifest["vocab_size"].get<int>(), 400);
  EXPECT_NE(r.out.find("validation tokens"), std::string::npos);
  EXPECT_NE(r.out.find("tokenized 1 file with"), std::string::npos) << r.out;  // not "1 files"
}

TEST(DataPrepareCli, ClearErrors) {
  TempDir dir;
  auto r = run_moeplan(
      {"data", "prepare", "--input", (dir / "nope").string(), "--out", (dir / "o").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("neither a file nor a directory"), std::string::npos) << r.err;
  write_text_file(dir / "t.txt", "hello world, enough text for a split");
  r = run_moeplan({"data", "prepare", "--input", (dir / "t.txt").string(), "--out",
                   (dir / "o").string(), "--tokenizer", "wordpiece"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown tokenizer 'wordpiece'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace moeplan::verify
