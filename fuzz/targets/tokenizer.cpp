// `data prepare`'s tokenizer input path: the --tokenizer spec (the input's first line) and the
// text of a document (the rest), encoded by the bytes tokenizer and by a small BPE trained once
// per process, the way data prepare trains one on its inputs.
#include "verify/data/tokenizer.h"

#include <cstdlib>
#include <memory>

#include "fuzz/fuzz_input.h"

namespace {

// A BPE of 512 pieces (room for the text's characters besides the 256 bytes) trained on generated
// text, in a directory of its own that is removed at exit.
class TrainedBpe {
 public:
  TrainedBpe()
      : dir_(std::filesystem::temp_directory_path() /
             ("moeplan-fuzz-" + std::to_string(::getpid()) + "-bpe")) {
    std::filesystem::create_directories(dir_);
    const auto text = dir_ / "text.txt";
    std::ofstream out(text);
    for (int i = 0; i < 400; ++i)
      out << "line " << i << ": the quick brown fox " << i * 7919 % 1000
          << " jumps over the lazy dog; ÄÖÜ ß € 漢字\n";
    out.close();
    tokenizer_ = moeplan::verify::train_sentencepiece({text}, 512, dir_ / "bpe");
  }
  ~TrainedBpe() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const moeplan::verify::Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<moeplan::verify::Tokenizer> tokenizer_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const TrainedBpe bpe;
  static const auto bytes = moeplan::verify::make_byte_tokenizer();
  const std::string text = moeplan::fuzz::input_text(data, size);
  const auto line_end = text.find('\n');
  const std::string spec = text.substr(0, line_end);
  const std::string document = line_end == std::string::npos ? "" : text.substr(line_end + 1);

  moeplan::fuzz::accepts([&] { (void)moeplan::verify::parse_tokenizer_spec(spec); });
  const auto byte_ids = bytes->encode_document(document);
  if (byte_ids.size() != document.size()) std::abort();
  moeplan::fuzz::accepts([&] {
    for (const auto id : bpe.tokenizer().encode_document(document))
      if (static_cast<std::int64_t>(id) >= bpe.tokenizer().vocab_size()) std::abort();
  });
  return 0;
}
