#pragma once
// Tokenizers of `moeplan data prepare`:
//   bytes             every byte is a token (vocabulary 256), no special tokens;
//   sentencepiece:V   a BPE of V pieces trained on the input (libsentencepiece, byte fallback so
//                     any text encodes); each document starts with <s> and every line ends with
//                     the byte piece <0x0A>, so newlines survive.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace moeplan::verify {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::string name() const = 0;  // "bytes", "sentencepiece"
  virtual std::int64_t vocab_size() const = 0;
  // The tokens of one document (one input file).
  virtual std::vector<std::uint32_t> encode_document(const std::string& text) const = 0;
};

// The largest sentencepiece:VOCAB (real vocabularies are at most ~262,144): sentencepiece's
// trainer reads the value as an int and ran for minutes on 2,000,000,000 before this limit.
inline constexpr std::int64_t kMaxSentencepieceVocab = std::int64_t{1} << 20;

struct TokenizerSpec {
  std::string kind;        // "bytes" or "sentencepiece"
  std::int64_t vocab = 0;  // requested vocabulary (256 for bytes)
};
// "bytes" or "sentencepiece:VOCAB"; throws moeplan::Error otherwise.
TokenizerSpec parse_tokenizer_spec(const std::string& text);

std::unique_ptr<Tokenizer> make_byte_tokenizer();

// Trains a BPE on `inputs` and writes <model_prefix>.model and .vocab.
std::unique_ptr<Tokenizer> train_sentencepiece(const std::vector<std::filesystem::path>& inputs,
                                               std::int64_t vocab,
                                               const std::filesystem::path& model_prefix);
std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model);

}  // namespace moeplan::verify
