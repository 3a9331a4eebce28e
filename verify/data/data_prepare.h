#pragma once
// `moeplan data prepare`: text files -> llm.c token shards + tokenizer + manifest.json.
// Inputs are files or directories (walked recursively, sorted, hidden entries and files with NUL
// bytes skipped); each file is one document. The token stream is the documents in path order;
// the validation split is its last max(ceil(val_fraction·T), min(val_min_tokens, T/10)) tokens
// (T = all tokens), the rest is training data. Shards hold at most shard_tokens tokens.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace moeplan::verify {

struct DataPrepareOptions {
  std::vector<std::filesystem::path> inputs;
  std::string tokenizer = "bytes";  // "bytes" or "sentencepiece:VOCAB"
  std::filesystem::path out_dir;
  std::string name = "data";  // shard prefix: <name>_train_000000.bin
  double val_fraction = 0.005;
  std::int64_t val_min_tokens = 100000;
  std::int64_t shard_tokens = 100000000;
};

struct DataPrepareSummary {
  std::int64_t vocab_size = 0;
  std::int64_t train_tokens = 0, val_tokens = 0;
  std::int64_t documents = 0, skipped_files = 0;
  std::vector<std::filesystem::path> shards;
  std::filesystem::path manifest;
};

// The input files in order (see above); throws when there are none.
std::vector<std::filesystem::path> collect_input_files(
    const std::vector<std::filesystem::path>& inputs, std::int64_t* skipped);

// Tokens of the validation split for a stream of `total` tokens (the rule above).
std::int64_t validation_token_count(std::int64_t total, double val_fraction,
                                    std::int64_t val_min_tokens);

DataPrepareSummary prepare_data(const DataPrepareOptions& options);

// "manifest.json" of a data directory: its vocab_size, or 0 when there is no manifest.
std::int64_t manifest_vocab_size(const std::filesystem::path& data_dir);

}  // namespace moeplan::verify
