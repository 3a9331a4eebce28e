#include "verify/data/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <sstream>
#include <thread>
#include <unordered_map>

#include "util/error.h"
#include "util/files.h"
#include "util/units.h"

namespace moeplan::verify {
namespace {

class ByteTokenizer final : public Tokenizer {
 public:
  std::string name() const override { return "bytes"; }
  std::int64_t vocab_size() const override { return 256; }
  std::vector<std::uint32_t> encode_document(const std::string& text) const override {
    std::vector<std::uint32_t> ids(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<unsigned char>(text[i]);
    return ids;
  }
};

class SentencePieceTokenizer final : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(const std::filesystem::path& model) {
    const auto status = sp_.Load(model.string());
    if (!status.ok())
      fail("cannot load the sentencepiece model ", model.string(), ": ", status.ToString());
    newline_ = sp_.PieceToId("<0x0A>");
    if (newline_ == sp_.unk_id()) {
      fail("sentencepiece model ", model.string(),
           " has no byte piece <0x0A> (train it with byte_fallback)");
    }
  }
  std::string name() const override { return "sentencepiece"; }
  // The model's pieces and scores, one "piece<TAB>score" line each: sentencepiece's .vocab file.
  std::string vocab_listing() const {
    std::ostringstream out;
    for (int id = 0; id < sp_.GetPieceSize(); ++id)
      out << sp_.IdToPiece(id) << "\t" << sp_.GetScore(id) << "\n";
    return out.str();
  }
  std::int64_t vocab_size() const override { return sp_.GetPieceSize(); }
  std::vector<std::uint32_t> encode_document(const std::string& text) const override {
    std::vector<std::uint32_t> ids;
    if (sp_.bos_id() >= 0) ids.push_back(static_cast<std::uint32_t>(sp_.bos_id()));
    std::size_t begin = 0;
    std::vector<int> pieces;
    while (begin < text.size()) {
      auto end = text.find('\n', begin);
      const bool has_newline = end != std::string::npos;
      if (!has_newline) end = text.size();
      const auto status = sp_.Encode(std::string_view(text).substr(begin, end - begin), &pieces);
      if (!status.ok()) fail("sentencepiece could not encode a line: ", status.ToString());
      for (int id : pieces) ids.push_back(static_cast<std::uint32_t>(id));
      if (has_newline) ids.push_back(static_cast<std::uint32_t>(newline_));
      begin = end + 1;
    }
    return ids;
  }

 private:
  sentencepiece::SentencePieceProcessor sp_;
  int newline_ = 0;
};

}  // namespace

TokenizerSpec parse_tokenizer_spec(const std::string& text) {
  if (text == "bytes") return {"bytes", 256};
  const std::string prefix = "sentencepiece:";
  if (text.rfind(prefix, 0) == 0) {
    const auto vocab =
        parse_positive_int(text.substr(prefix.size()), "--tokenizer sentencepiece:VOCAB");
    if (vocab < 300)
      fail("--tokenizer sentencepiece:", vocab,
           " is too small: the BPE keeps 256 byte pieces and 3 special tokens, so VOCAB must be at "
           "least 300");
    if (vocab > kMaxSentencepieceVocab)
      fail("--tokenizer sentencepiece:", vocab, " is too large: VOCAB must be at most ",
           kMaxSentencepieceVocab);
    return {"sentencepiece", vocab};
  }
  fail("unknown tokenizer '", text,
       "': use 'bytes' or 'sentencepiece:VOCAB' (e.g. sentencepiece:8192)");
}

std::unique_ptr<Tokenizer> make_byte_tokenizer() {
  return std::make_unique<ByteTokenizer>();
}

std::unique_ptr<Tokenizer> train_sentencepiece(const std::vector<std::filesystem::path>& inputs,
                                               std::int64_t vocab,
                                               const std::filesystem::path& model_prefix) {
  std::string files;
  for (const auto& p : inputs) {
    if (p.string().find(',') != std::string::npos)
      fail("input path ", p.string(), " contains a comma, which sentencepiece cannot take");
    if (!files.empty()) files += ',';
    files += p.string();
  }
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  const std::unordered_map<std::string, std::string> args{
      {"input", files},
      {"model_type", "bpe"},
      {"vocab_size", std::to_string(vocab)},
      {"byte_fallback", "true"},  // any byte sequence encodes; <0x0A> carries newlines
      {"character_coverage", "0.9995"},
      {"normalization_rule_name", "identity"},  // keep the text as it is (code, whitespace)
      {"remove_extra_whitespaces", "false"},
      {"split_digits", "true"},
      {"hard_vocab_limit", "false"},  // a small corpus may not support VOCAB pieces
      {"input_sentence_size", "2000000"},
      {"shuffle_input_sentence", "true"},
      {"max_sentence_length", "16384"},
      {"minloglevel", "2"},
      {"num_threads", std::to_string(threads)}};
  // Trained into memory and written here atomically: sentencepiece's own file writes do not
  // report a full disk (a truncated model then failed to load with a parse error).
  std::string model_proto;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, nullptr, &model_proto);
  if (!status.ok()) fail("sentencepiece training failed: ", status.ToString());
  const std::filesystem::path model = model_prefix.string() + ".model";
  write_file_atomic(model, model_proto);
  auto tokenizer = std::make_unique<SentencePieceTokenizer>(model);
  write_file_atomic(model_prefix.string() + ".vocab", tokenizer->vocab_listing());
  return tokenizer;
}

std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model) {
  return std::make_unique<SentencePieceTokenizer>(model);
}

}  // namespace moeplan::verify
