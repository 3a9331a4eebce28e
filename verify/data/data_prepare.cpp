#include "verify/data/data_prepare.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>

#include "util/error.h"
#include "util/file_limits.h"
#include "util/files.h"
#include "util/json_text.h"
#include "verify/data/shard.h"
#include "verify/data/tokenizer.h"

namespace moeplan::verify {
namespace {

bool hidden(const std::filesystem::path& p) {
  const auto name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

bool looks_binary(const std::string& text) {
  return text.find('\0') != std::string::npos;
}

std::string shard_name(const std::string& name, const std::string& split, std::size_t index) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%06zu", index);
  return name + "_" + split + "_" + digits + ".bin";
}

}  // namespace

std::vector<std::filesystem::path> collect_input_files(
    const std::vector<std::filesystem::path>& inputs, std::int64_t* skipped) {
  std::vector<std::filesystem::path> files;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(input, ec)) {
      files.push_back(input);
    } else if (std::filesystem::is_directory(input, ec)) {
      std::vector<std::filesystem::path> found;
      auto it = std::filesystem::recursive_directory_iterator(input);
      for (; it != std::filesystem::recursive_directory_iterator(); ++it) {
        if (hidden(it->path())) {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file()) found.push_back(it->path());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      fail("input ", input.string(), " is neither a file nor a directory");
    }
  }
  std::vector<std::filesystem::path> text_files;
  for (const auto& f : files) {
    if (looks_binary(read_file(f))) {
      ++*skipped;
    } else {
      text_files.push_back(f);
    }
  }
  if (text_files.empty())
    fail("no text files among the inputs (", *skipped, " binary files skipped)");
  return text_files;
}

std::int64_t validation_token_count(std::int64_t total, double val_fraction,
                                    std::int64_t val_min_tokens) {
  const auto by_fraction =
      static_cast<std::int64_t>(std::ceil(val_fraction * static_cast<double>(total)));
  return std::max(by_fraction, std::min(val_min_tokens, total / 10));
}

DataPrepareSummary prepare_data(const DataPrepareOptions& o) {
  if (!(o.val_fraction > 0 && o.val_fraction < 0.5))
    fail("--val-fraction must be in (0, 0.5), got ", o.val_fraction);
  if (!std::regex_match(o.name, std::regex("[A-Za-z0-9.-]+"))) {
    fail("--name '", o.name,
         "' must be letters, digits, '.' or '-' (shards are NAME_train_000000.bin)");
  }
  const TokenizerSpec spec = parse_tokenizer_spec(o.tokenizer);
  // A failed run removes the directory if it made it, with the partial shards in it.
  CreatedDirectory out_dir(o.out_dir, CreatedDirectory::Removal::kWithContents);
  check_writable(o.out_dir / "manifest.json");
  if (!find_shards(o.out_dir, "train").empty() || !find_shards(o.out_dir, "val").empty()) {
    fail("output directory ", o.out_dir.string(),
         " already holds token shards; remove them or choose another --out");
  }

  DataPrepareSummary summary;
  const auto files = collect_input_files(o.inputs, &summary.skipped_files);
  std::unique_ptr<Tokenizer> tokenizer =
      spec.kind == "bytes" ? make_byte_tokenizer()
                           : train_sentencepiece(files, spec.vocab, o.out_dir / "tokenizer");
  summary.vocab_size = tokenizer->vocab_size();

  std::vector<std::uint32_t> stream;
  for (const auto& f : files) {
    const auto ids = tokenizer->encode_document(read_file(f));
    stream.insert(stream.end(), ids.begin(), ids.end());
  }
  summary.documents = static_cast<std::int64_t>(files.size());
  const auto total = static_cast<std::int64_t>(stream.size());
  if (total < 20)
    fail("the inputs hold only ", total,
         " tokens: too little text to split into training and validation data");
  summary.val_tokens = validation_token_count(total, o.val_fraction, o.val_min_tokens);
  summary.train_tokens = total - summary.val_tokens;

  const bool wide = summary.vocab_size > 65536;
  const auto write_split = [&](const std::string& split, std::int64_t begin, std::int64_t end) {
    std::size_t index = 0;
    for (std::int64_t b = begin; b < end; b += o.shard_tokens, ++index) {
      const std::int64_t e = std::min(end, b + o.shard_tokens);
      const std::vector<std::uint32_t> part(stream.begin() + b, stream.begin() + e);
      const auto path = o.out_dir / shard_name(o.name, split, index);
      write_shard(path, part, wide);
      summary.shards.push_back(path);
    }
  };
  write_split("train", 0, summary.train_tokens);
  write_split("val", summary.train_tokens, total);

  nlohmann::json sources = nlohmann::json::array();
  for (const auto& f : files) sources.push_back(f.string());
  nlohmann::json shards = nlohmann::json::array();
  for (const auto& s : summary.shards) shards.push_back(s.filename().string());
  const nlohmann::json manifest{
      {"format", "llm.c"},
      {"token_dtype", wide ? "uint32" : "uint16"},
      {"vocab_size", summary.vocab_size},
      {"tokenizer", spec.kind},
      {"tokenizer_model", spec.kind == "bytes" ? "" : "tokenizer.model"},
      {"train_tokens", summary.train_tokens},
      {"val_tokens", summary.val_tokens},
      {"validation_rule", "last max(ceil(val_fraction*T), min(val_min_tokens, T/10)) tokens"},
      {"val_fraction", o.val_fraction},
      {"val_min_tokens", o.val_min_tokens},
      {"documents", summary.documents},
      {"skipped_binary_files", summary.skipped_files},
      {"sources", sources},
      {"shards", shards}};
  summary.manifest = o.out_dir / "manifest.json";
  write_file_atomic(summary.manifest, manifest.dump(2) + "\n");
  out_dir.keep();
  return summary;
}

std::int64_t manifest_vocab_size(const std::filesystem::path& data_dir) {
  require_data_directory(data_dir);
  const auto path = data_dir / "manifest.json";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return 0;
  const auto manifest = parse_json_text(read_file(path, kMaxJsonFileBytes, "data manifest"), path.string());
  if (!manifest.is_object() || !manifest.contains("vocab_size") ||
      !manifest["vocab_size"].is_number_integer() ||
      manifest["vocab_size"].get<std::int64_t>() <= 0)
    fail(path.string(),
         " is not a valid data manifest (it needs a positive integer \"vocab_size\")");
  return manifest["vocab_size"].get<std::int64_t>();
}

}  // namespace moeplan::verify
