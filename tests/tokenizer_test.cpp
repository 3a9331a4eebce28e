// Tokenizers of `data prepare`: raw bytes and a sentencepiece BPE trained on the input.
#include "verify/data/tokenizer.h"

#include <gtest/gtest.h>

#include "tests/support/cli_runner.h"
#include "util/error.h"

namespace moeplan::verify {
namespace {

using moeplan::testing::TempDir;

TEST(Tokenizer, ParsesItsSpec) {
  EXPECT_EQ(parse_tokenizer_spec("bytes").vocab, 256);
  const auto sp = parse_tokenizer_spec("sentencepiece:8192");
  EXPECT_EQ(sp.kind, "sentencepiece");
  EXPECT_EQ(sp.vocab, 8192);
  EXPECT_THROW(parse_tokenizer_spec("sentencepiece:"), Error);
  EXPECT_THROW(parse_tokenizer_spec("sentencepiece:100"), Error);
  EXPECT_THROW(parse_tokenizer_spec("tiktoken"), Error);
}

TEST(Tokenizer, BytesAreTheirOwnIds) {
  const auto t = make_byte_tokenizer();
  EXPECT_EQ(t->vocab_size(), 256);
  EXPECT_EQ(t->encode_document("A\n\xff"), (std::vector<std::uint32_t>{65, 10, 255}));
}

std::string corpus() {
  std::string text;
  const char* words[] = {"expert", "router", "token", "sparsity",
                         "budget", "loss",   "layer", "mixture"};
  for (int i = 0; i < 3000; ++i) {
    text += words[(i * 7) % 8];
    text += (i % 11 == 10) ? "\n" : " ";
  }
  return text;
}

TEST(Tokenizer, SentencePieceBpeTrainsEncodesAndKeepsNewlines) {
  TempDir dir;
  moeplan::testing::write_text_file(dir / "a.txt", corpus());
  const auto t = train_sentencepiece({dir / "a.txt"}, 320, dir / "tok");
  EXPECT_TRUE(std::filesystem::exists(dir / "tok.model"));
  EXPECT_LE(t->vocab_size(), 320);
  EXPECT_GT(t->vocab_size(), 259);
  const auto ids = t->encode_document("router token\nloss");
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(ids[0], 1u);  // <s> starts each document
  // Merges make words cheaper than bytes.
  EXPECT_LT(ids.size(), std::string("router token\nloss").size());
  const auto reloaded = load_sentencepiece(dir / "tok.model");
  EXPECT_EQ(reloaded->encode_document("router token\nloss"), ids);
  // The newline is a piece of its own, so documents keep their lines.
  const auto one = t->encode_document("loss");
  const auto two = t->encode_document("loss\nloss");
  EXPECT_EQ(two.size(), 2 * one.size());
  for (auto id : two) EXPECT_LT(id, static_cast<std::uint32_t>(t->vocab_size()));
}

}  // namespace
}  // namespace moeplan::verify
