// `moeplan data prepare --input DIR|FILE... --tokenizer sentencepiece:VOCAB|bytes --out DIR`:
// text files -> llm.c train/val token shards, the tokenizer model and manifest.json
// (verify/data/data_prepare.h).
#include "verify/data/data_prepare.h"

#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "util/error.h"
#include "util/units.h"

namespace moeplan::cli {

int run_data_prepare(const std::vector<std::string>& args) {
  CommandSpec spec;
  spec.usage =
      "moeplan data prepare --input DIR|FILE... --tokenizer bytes|sentencepiece:VOCAB --out DIR";
  spec.description =
      "Tokenizes text files (directories are walked recursively; hidden entries and binary files\n"
      "are skipped; each file is one document) into llm.c token shards: uint16 tokens with magic\n"
      "20240520/version 1, or uint32 with magic 20240801/version 7 when token ids exceed 65535.\n"
      "The validation split is the last max(ceil(F*T), min(M, T/10)) of the T tokens\n"
      "(F = --val-fraction, M = --val-min-tokens). Writes NAME_train_000000.bin...,\n"
      "NAME_val_000000.bin..., tokenizer.model (sentencepiece) and manifest.json into --out.";
  spec.options.add_options()("input",
                             po::value<std::vector<std::string>>()->multitoken()->required(),
                             "text files or directories (repeatable)")(
      "tokenizer", po::value<std::string>()->default_value("bytes"),
      "'bytes' (vocabulary 256) or 'sentencepiece:VOCAB' (train a BPE of VOCAB pieces)")(
      "out", po::value<std::string>()->required(), "output directory (created if missing)")(
      "name", po::value<std::string>()->default_value("data"), "shard name prefix")(
      "val-fraction", po::value<std::string>()->default_value("0.005"),
      "fraction F of the tokens held out for validation")(
      "val-min-tokens", po::value<std::string>()->default_value("100000"),
      "hold out at least min(M, 10% of the tokens)")(
      "shard-tokens", po::value<std::string>()->default_value("100M"), "tokens per shard at most");
  const auto vm = parse_command(spec, args);
  if (!vm) return 0;

  verify::DataPrepareOptions o;
  for (const auto& in : (*vm)["input"].as<std::vector<std::string>>()) o.inputs.emplace_back(in);
  o.tokenizer = (*vm)["tokenizer"].as<std::string>();
  o.out_dir = (*vm)["out"].as<std::string>();
  o.name = (*vm)["name"].as<std::string>();
  o.val_fraction = parse_positive((*vm)["val-fraction"].as<std::string>(), "--val-fraction");
  o.val_min_tokens = static_cast<std::int64_t>(
      parse_count((*vm)["val-min-tokens"].as<std::string>(), "--val-min-tokens"));
  o.shard_tokens = static_cast<std::int64_t>(
      parse_count((*vm)["shard-tokens"].as<std::string>(), "--shard-tokens"));
  if (o.shard_tokens >= (1ll << 31))
    fail("--shard-tokens must be below 2^31 (llm.c's int32 header)");

  const auto s = verify::prepare_data(o);
  std::cout << "tokenized " << s.documents << (s.documents == 1 ? " file" : " files");
  if (s.skipped_files > 0) std::cout << " (skipped " << s.skipped_files << " binary files)";
  std::cout << " with " << o.tokenizer << " (vocabulary " << s.vocab_size << "): " << s.train_tokens
            << " training and " << s.val_tokens << " validation tokens in " << s.shards.size()
            << " shards\nwrote " << s.manifest.string() << "\n";
  return 0;
}

}  // namespace moeplan::cli
