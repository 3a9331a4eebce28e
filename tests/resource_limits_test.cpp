// Inputs made to exhaust memory or time (issue 13, item 5) are refused with a clear one-line
// error, from their size, depth or header alone: a runs CSV with a 1 GB line, JSON nested a
// million deep, a config or ARCH.json claiming 10^12 experts or layers, a shard or safetensors
// header promising more than its file holds. Each hostile input is made cheaply (sparse files,
// JSON built as a string); where no sanitizer runs, the big-file cases also run in a child whose
// address space is capped, so reading the file whole would fail the test.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <string>

#include "law/architecture.h"
#include "law/law_json.h"
#include "law/model_accounting.h"
#include "planner/architecture_json.h"
#include "planner/hf_config.h"
#include "planner/runs_csv.h"
#include "support/cli_runner.h"
#include "support/expect_error.h"
#include "util/checked_count.h"
#include "util/file_limits.h"
#include "util/json_text.h"
#include "verify/check/training_log.h"
#include "verify/data/shard.h"
#include "verify/data/tokenizer.h"
#include "verify/memory_check.h"
#include "verify/safetensors.h"

#if defined(__SANITIZE_ADDRESS__)
#define MOEPLAN_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MOEPLAN_UNDER_ASAN 1
#endif
#endif

namespace moeplan {
namespace {

using testing::error_of;
using testing::TempDir;
using testing::write_text_file;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A file of `size` bytes starting with `head`, the rest a hole (zero bytes that take no disk).
void write_sparse_file(const std::filesystem::path& path, const std::string& head,
                       std::uintmax_t size) {
  write_text_file(path, head);
  std::filesystem::resize_file(path, size);
}

// Runs `refuse` (which must throw moeplan::Error containing `expected`) in a child whose address
// space is capped at 512 MiB, so a reader that allocated the input's size would fail. Skipped
// under AddressSanitizer, whose shadow memory needs terabytes of address space.
void expect_refused_in_capped_child(const std::function<void()>& refuse,
                                    const std::string& expected) {
#ifdef MOEPLAN_UNDER_ASAN
  (void)refuse;
  (void)expected;
  std::cerr << "[ note ] the RLIMIT_AS part is left out under AddressSanitizer\n";
#else
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    constexpr rlim_t kCapBytes = rlim_t{512} << 20;
    const rlimit cap{kCapBytes, kCapBytes};
    if (::setrlimit(RLIMIT_AS, &cap) != 0) ::_exit(3);
    try {
      refuse();
    } catch (const Error& e) {
      ::_exit(contains(e.what(), expected) ? 0 : 1);
    } catch (...) {
      ::_exit(2);  // std::bad_alloc: the reader allocated the input
    }
    ::_exit(4);  // not refused
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of a signal";
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "1: another error, 2: another exception (out of memory?), 4: not refused";
#endif
}

constexpr std::uintmax_t kOneGigabyte = 1000 * 1000 * 1000;

// ---- runs CSV ----------------------------------------------------------------------------------

TEST(RunsCsvLimits, ALineOfOneGigabyteIsRefusedAfterItsFirst64KiB) {
  TempDir dir;
  const auto path = dir / "runs.csv";
  write_sparse_file(path, "params,tokens,sparsity,loss\n1e8,", kOneGigabyte);
  const std::string error = error_of([&] { planner::read_runs_table(path.string()); });
  EXPECT_TRUE(contains(error, path.string() + ":2: line longer than 65536 bytes")) << error;
  expect_refused_in_capped_child([&] { planner::read_runs_table(path.string()); },
                                 "line longer than");
}

TEST(RunsCsvLimits, AFileOverTheSizeLimitIsRefusedBeforeReading) {
  TempDir dir;
  const auto path = dir / "runs.csv";
  write_sparse_file(path, "params,tokens,sparsity,loss\n", planner::kMaxRunsCsvBytes + 1);
  const std::string error = error_of([&] { planner::read_runs_table(path.string()); });
  EXPECT_TRUE(contains(error, "runs CSV " + path.string() + " is 1073741825 bytes, over the"))
      << error;
  expect_refused_in_capped_child([&] { planner::read_runs_table(path.string()); }, "over the");
}

TEST(RunsCsvLimits, AMillionRowsAreStillRead) {
  TempDir dir;
  const auto path = dir / "runs.csv";
  {
    std::ofstream out(path);
    out << "params,tokens,sparsity,loss\n";
    for (int i = 0; i < 1000000; ++i) out << 1e8 + i << ",1e9,0.5,3.0\n";
  }
  EXPECT_EQ(planner::read_runs_table(path.string()).runs.size(), 1000000u);
}

TEST(RunsCsvLimits, ALineOfExactlyTheLimitIsRead) {
  // The status cell pads the row to exactly kMaxRunsCsvLineBytes; the row is left out by status.
  const std::string row_head = "1e8,1e9,0.5,3.0,";
  const std::string row =
      row_head + std::string(planner::kMaxRunsCsvLineBytes - row_head.size(), 'x');
  const std::string text = "params,tokens,sparsity,loss,status\n1e8,1e9,0.5,3.0,ok\n" + row + "\n";
  const auto table = planner::parse_runs_table(text, "runs.csv");
  EXPECT_EQ(table.runs.size(), 1u);
  EXPECT_EQ(table.left_out_count(), 1u);
  const std::string error =
      error_of([&] { planner::parse_runs_table(text + row + "x\n", "runs.csv"); });
  EXPECT_TRUE(contains(error, "runs.csv:4: line longer than 65536 bytes")) << error;
}

// ---- JSON nesting and size ---------------------------------------------------------------------

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

const std::string kMillionDeep = nested_arrays(1000000);

TEST(JsonLimits, NestingPastTheLimitIsRefusedBeforeParsing) {
  EXPECT_NO_THROW(parse_json_text(nested_arrays(kMaxJsonDepth), "ok.json"));
  const std::string error =
      error_of([] { parse_json_text(nested_arrays(kMaxJsonDepth + 1), "x.json"); });
  EXPECT_EQ(error, "x.json is nested deeper than 64 levels of arrays and objects (at byte 64)");
  EXPECT_TRUE(contains(error_of([] { parse_json_text(kMillionDeep, "deep.json"); }),
                       "deep.json is nested deeper than 64"));
  // Brackets inside strings (escaped quotes included) are text, not nesting.
  const std::string in_string = "{\"a\": \"\\\"" + std::string(1000, '[') + "\"}";
  EXPECT_NO_THROW(parse_json_text(in_string, "string.json"));
}

TEST(JsonLimits, EveryJsonReaderRefusesAMillionLevels) {
  EXPECT_TRUE(contains(error_of([] { law::law_from_json_text(kMillionDeep, "deep.json"); }),
                       "law 'deep.json' is nested deeper than 64"));
  EXPECT_TRUE(contains(error_of([] { planner::read_hf_config(kMillionDeep, "config.json"); }),
                       "config.json is nested deeper than 64"));
  const std::string jsonl = "{\"step\": 1, \"val_loss\": 3.0}\n" + kMillionDeep + "\n";
  EXPECT_TRUE(contains(error_of([&] { verify::parse_training_log(jsonl, "log.jsonl"); }),
                       "log.jsonl:2 is nested deeper than 64"));
  TempDir dir;
  write_text_file(dir / "arch.json", kMillionDeep);
  EXPECT_TRUE(contains(error_of([&] { planner::read_architecture_file(dir / "arch.json"); }),
                       "arch.json is nested deeper than 64"));
}

TEST(JsonLimits, ADeepValueWhereANumberBelongsIsRefusedNotPrinted) {
  // Was a crash: the error message printed the value with dump(), which recurses per level.
  TempDir dir;
  write_text_file(dir / "arch.json", "{\"d_model\": " + kMillionDeep + "}");
  EXPECT_TRUE(contains(error_of([&] { planner::read_architecture_file(dir / "arch.json"); }),
                       "nested deeper than 64"));
}

TEST(JsonLimits, AJsonFileOverTheSizeLimitIsRefusedBeforeReading) {
  TempDir dir;
  const auto path = dir / "plan.json";
  write_sparse_file(path, "{", kMaxJsonFileBytes + 1);
  const std::string error = error_of([&] { planner::read_json_file(path); });
  EXPECT_TRUE(
      contains(error, "JSON file " + path.string() + " is 67108865 bytes, over the 64.0 MiB"))
      << error;
  expect_refused_in_capped_child([&] { planner::read_json_file(path); }, "over the 64.0 MiB");
}

// ---- model dimensions --------------------------------------------------------------------------

std::string hf_mixtral(const std::string& changed_key, const std::string& value) {
  std::string config =
      R"({"model_type": "mixtral", "hidden_size": 4096, "num_hidden_layers": 32,
          "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000,
          "intermediate_size": 14336, "num_local_experts": 8, "num_experts_per_tok": 2})";
  const auto at = config.find("\"" + changed_key + "\": ");
  const auto value_begin = config.find(':', at) + 2;
  const auto value_end = config.find_first_of(",}", value_begin);
  return config.replace(value_begin, value_end - value_begin, value);
}

TEST(ModelLimits, AConfigClaimingTrillionsOfExpertsIsRefusedNotCountedNegative) {
  EXPECT_GT(
      planner::read_hf_config(hf_mixtral("num_local_experts", "8"), "c.json").model.layers.size(),
      0u);
  const std::string experts = error_of(
      [] { planner::read_hf_config(hf_mixtral("num_local_experts", "1000000000000"), "c.json"); });
  EXPECT_TRUE(contains(experts, "c.json (mixtral): a count of the model passes 2^63")) << experts;
  const std::string width = error_of(
      [] { planner::read_hf_config(hf_mixtral("hidden_size", "1099511627776"), "c.json"); });
  EXPECT_TRUE(contains(width, "passes 2^63")) << width;
  const std::string layers = error_of(
      [] { planner::read_hf_config(hf_mixtral("num_hidden_layers", "1000000000000"), "c.json"); });
  EXPECT_TRUE(contains(layers, "'num_hidden_layers' is 1000000000000, more than the 65536"))
      << layers;
}

std::string arch_json(const std::string& experts, const std::string& layers) {
  return R"({"d_model": 512, "n_layers": )" + layers + R"(, "n_heads": 8, "experts": )" + experts +
         R"(, "active_experts": 2, "vocab_size": 512, "context": 128})";
}

TEST(ModelLimits, AnArchitectureClaimingTrillionsOfExpertsOrLayersIsRefused) {
  TempDir dir;
  write_text_file(dir / "experts.json", arch_json("1000000000000", "4"));
  EXPECT_TRUE(contains(error_of([&] { planner::read_architecture_file(dir / "experts.json"); }),
                       "experts.json: a count of the model passes 2^63"));
  write_text_file(dir / "layers.json", arch_json("8", "1000000000000"));
  EXPECT_TRUE(contains(error_of([&] { planner::read_architecture_file(dir / "layers.json"); }),
                       "n_layers 1000000000000 is more than the 65536"));
}

TEST(ModelLimits, ALargeButCountableModelIsRefusedByTheMemoryCheck) {
  // 10^9 experts fit int64's count; train's memory check refuses it from the count alone.
  TempDir dir;
  write_text_file(dir / "big.json", arch_json("1000000000", "4"));
  const auto arch = planner::read_architecture_file(dir / "big.json");
  EXPECT_GT(law::count_params(arch).total, 0);
  const auto need = verify::training_memory(arch, 1, "cpu");
  EXPECT_TRUE(contains(error_of([&] { verify::check_training_memory(need, 64e9, "the RAM"); }),
                       "the model does not fit"));
}

TEST(ModelLimits, TrainRefusesTrillionsOfExpertsWithOneLine) {
  TempDir dir;
  write_text_file(dir / "arch.json", arch_json("1000000000000", "4"));
  const auto r = testing::run_moeplan({"train", "--arch", (dir / "arch.json").string(), "--device",
                                       "cpu", "--random-data", "--vocab", "512", "--steps", "1",
                                       "--out", (dir / "run").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("moeplan: error: ", 0), 0u) << r.err;
  EXPECT_TRUE(contains(r.err, "a count of the model passes 2^63")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  EXPECT_FALSE(std::filesystem::exists(dir / "run"));
}

TEST(ModelLimits, TrainRefusesRunLengthsPastInt64) {
  TempDir dir;
  write_text_file(dir / "plan.json",
                  R"({"architecture": )" + arch_json("2", "1") + R"(, "tokens": 1e30})");
  const auto plan =
      testing::run_moeplan({"train", "--plan", (dir / "plan.json").string(), "--device", "cpu",
                            "--random-data", "--vocab", "512", "--out", (dir / "run").string()});
  EXPECT_EQ(plan.exit_code, 1);
  EXPECT_TRUE(contains(plan.err, "plan key \"tokens\" must be a positive count below 2^63"))
      << plan.err;
  const auto steps = testing::run_moeplan({"train", "--d-model", "64", "--layers", "1", "--device",
                                           "cpu", "--random-data", "--vocab", "256", "--steps",
                                           "1e17", "--out", (dir / "run").string()});
  EXPECT_EQ(steps.exit_code, 1);
  EXPECT_TRUE(contains(steps.err, "--steps 100000000000000000 of 2048 tokens each is past 2^63"))
      << steps.err;
}

TEST(ModelLimits, CheckedCountsRefuseOverflow) {
  const CheckedCount big = std::int64_t{1} << 62;
  const CheckedCount largest = big + CheckedCount(big.value() - 1);
  EXPECT_EQ(largest.value(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ((big * 1 + 1).value(), big.value() + 1);
  EXPECT_TRUE(contains(error_of([&] { (void)(big * 2); }), "passes 2^63"));
  EXPECT_TRUE(contains(error_of([&] { (void)(big + big); }), "passes 2^63"));
}

// ---- binary headers ----------------------------------------------------------------------------

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(HeaderLimits, AShardPromisingMoreTokensThanItsFileHoldsIsRefused) {
  TempDir dir;
  const auto path = dir / "x_train_000000.bin";
  std::array<std::int32_t, 256> header{};
  header[0] = verify::kShardMagicU16;
  header[1] = verify::kShardVersionU16;
  header[2] = 2000000000;
  std::string bytes(reinterpret_cast<const char*>(header.data()), verify::kShardHeaderBytes);
  bytes += std::string(20, '\0');  // 10 tokens
  write_bytes(path, bytes);
  const std::string error = error_of([&] { verify::read_shard_header(path); });
  EXPECT_TRUE(contains(error, path.string())) << error;
  EXPECT_TRUE(
      contains(error, "promises 2000000000 tokens (4000001024 bytes) but the file has 1044 bytes"))
      << error;
}

// A safetensors file: the 8-byte little-endian header length `length`, then `header`, then
// `data_bytes` zero bytes.
void write_safetensors_bytes(const std::filesystem::path& path, std::uint64_t length,
                             const std::string& header, std::size_t data_bytes) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((length >> (8 * i)) & 0xffu);
  write_bytes(path, bytes + header + std::string(data_bytes, '\0'));
}

TEST(HeaderLimits, ASafetensorsHeaderLengthOf2To63IsRefused) {
  TempDir dir;
  const auto path = dir / "w.safetensors";
  write_safetensors_bytes(path, std::uint64_t{1} << 63, "{}", 0);
  const std::string error = error_of([&] { verify::read_safetensors(path); });
  EXPECT_TRUE(contains(error, path.string() +
                                  " is not a valid safetensors file: header length "
                                  "9223372036854775808 does not fit in the file's 10 bytes"))
      << error;
}

TEST(HeaderLimits, SafetensorsOffsetsPastTheFileOrAnOverflowingShapeAreRefused) {
  TempDir dir;
  const auto past = dir / "past.safetensors";
  const std::string header =
      R"({"w": {"dtype": "F32", "shape": [1000000000], "data_offsets": [0, 4000000000]}})";
  write_safetensors_bytes(past, header.size(), header, 16);
  const std::string error = error_of([&] { verify::read_safetensors(past); });
  EXPECT_TRUE(contains(error, "data offsets [0, 4000000000) outside the 16-byte data section"))
      << error;
  // [2^62, 4] F32 is 2^66 bytes, which wrapped to 0 and matched offsets [0, 0].
  const auto wrapped = dir / "wrapped.safetensors";
  const std::string wrapping =
      R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}})";
  write_safetensors_bytes(wrapped, wrapping.size(), wrapping, 0);
  EXPECT_TRUE(contains(error_of([&] { verify::read_safetensors(wrapped); }),
                       "tensor 'w' has a shape of more than 2^64 bytes"));
  const auto deep = dir / "deep.safetensors";
  write_safetensors_bytes(deep, kMillionDeep.size(), kMillionDeep, 0);
  EXPECT_TRUE(contains(error_of([&] { verify::read_safetensors(deep); }), "nested deeper than 64"));
}

// ---- tokenizer ---------------------------------------------------------------------------------

TEST(TokenizerLimits, AnAbsurdSentencepieceVocabularyIsRefused) {
  EXPECT_EQ(verify::parse_tokenizer_spec("sentencepiece:1048576").vocab, 1048576);
  EXPECT_TRUE(contains(error_of([] { verify::parse_tokenizer_spec("sentencepiece:2000000000"); }),
                       "sentencepiece:2000000000 is too large: VOCAB must be at most 1048576"));
}

}  // namespace
}  // namespace moeplan
