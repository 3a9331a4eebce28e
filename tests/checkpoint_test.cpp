// safetensors files and training checkpoints.
#include "verify/checkpoint.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "law/architecture.h"
#include "tests/support/cli_runner.h"
#include "tests/support/expect_error.h"
#include "util/error.h"
#include "verify/backend.h"
#include "verify/safetensors.h"

namespace moeplan::verify {
namespace {

using moeplan::testing::TempDir;

using moeplan::testing::error_of;

// A safetensors file assembled by hand: header JSON then raw bytes.
void write_raw_safetensors(const std::filesystem::path& p, const std::string& header,
                           const std::string& data) {
  std::ofstream out(p, std::ios::binary);
  std::uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header << data;
}

TEST(Safetensors, RoundTripAndFormat) {
  TempDir dir;
  const std::vector<HostTensor> tensors{{"b", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"a", {1}, {-7.5f}}};
  write_safetensors(dir / "t.safetensors", tensors, {{"step", "12"}});
  const auto c = read_safetensors(dir / "t.safetensors");
  ASSERT_EQ(c.tensors.size(), 2u);
  EXPECT_EQ(c.tensors[0].name, "b");  // data order, as written
  EXPECT_EQ(c.tensors[0].shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(c.tensors[0].data, tensors[0].data);
  EXPECT_EQ(c.tensors[1].data, tensors[1].data);
  EXPECT_EQ(c.metadata.at("step"), "12");
  // The header: 8-byte little-endian length (a multiple of 8), JSON with F32 and offsets.
  const std::string bytes = moeplan::testing::read_text_file(dir / "t.safetensors");
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  const auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["b"]["dtype"], "F32");
  EXPECT_EQ(header["b"]["data_offsets"], nlohmann::json({0, 24}));
  EXPECT_EQ(header["a"]["data_offsets"], nlohmann::json({24, 28}));
  EXPECT_EQ(header["__metadata__"]["step"], "12");
  EXPECT_EQ(bytes.size(), 8 + n + 28);
}

TEST(Safetensors, ReadsBf16AndF16) {
  TempDir dir;
  // bf16 1.5 = 0x3FC0; f16 -2.0 = 0xC000, f16 0.5 = 0x3800.
  const std::string data("\xC0\x3F\x00\xC0\x00\x38", 6);
  write_raw_safetensors(dir / "h.safetensors",
                        R"({"x":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]},)"
                        R"("y":{"dtype":"F16","shape":[2],"data_offsets":[2,6]}})",
                        data);
  const auto c = read_safetensors(dir / "h.safetensors");
  EXPECT_EQ(c.tensors[0].data, std::vector<float>{1.5f});
  EXPECT_EQ(c.tensors[1].data, (std::vector<float>{-2.0f, 0.5f}));
}

TEST(Safetensors, ClearErrorsForCorruptFiles) {
  TempDir dir;
  const auto p = dir / "bad.safetensors";
  write_raw_safetensors(p, R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                        std::string(8, '\0'));
  EXPECT_NE(error_of([&] { read_safetensors(p); }).find("outside"), std::string::npos);
  write_raw_safetensors(p, R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})",
                        std::string(16, '\0'));
  EXPECT_NE(error_of([&] { read_safetensors(p); }).find("need"), std::string::npos);
  write_raw_safetensors(p, R"({"x":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}})", "a");
  EXPECT_NE(error_of([&] { read_safetensors(p); }).find("dtype I8"), std::string::npos);
  write_raw_safetensors(p, "{not json", "");
  EXPECT_NE(error_of([&] { read_safetensors(p); }).find("not JSON"), std::string::npos);
  moeplan::testing::write_text_file(p, std::string("\xff\xff\xff\xff\x00\x00\x00\x00{}", 10));
  EXPECT_NE(error_of([&] { read_safetensors(p); }).find("header length"), std::string::npos);
}

TEST(Checkpoint, SavesAndRestoresWeightsOptimizerAndPosition) {
  TempDir dir;
  const auto arch = law::make_paper_architecture(16, 2, 2, 4, 2, 2, 19, 8);
  auto a = make_cpu_backend(arch, 5);
  std::vector<std::int32_t> ids(16);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>((i * 5) % 19);
  const Batch batch{ids.data(), ids.data(), 2, 8};
  for (int i = 0; i < 3; ++i) {
    a->forward_backward(batch, 1.0);
    a->optimizer_step(AdamWSettings{}, 1e-2);
  }
  TrainingState s;
  s.step = 3;
  s.tokens_seen = 48;
  s.data_position = 6;
  s.seed = 99;
  s.train_config_json = "{}";
  save_checkpoint(dir / kCheckpointFileName, *a, s);

  auto b = make_cpu_backend(arch, 6);                   // other initial weights
  const auto loaded = load_checkpoint(dir.path(), *b);  // a run directory works too
  EXPECT_EQ(loaded.step, 3);
  EXPECT_EQ(loaded.tokens_seen, 48);
  EXPECT_EQ(loaded.data_position, 6);
  EXPECT_EQ(loaded.seed, 99u);
  EXPECT_EQ(b->optimizer_step_count(), 3);
  EXPECT_EQ(b->parameters()[2].data, a->parameters()[2].data);
  EXPECT_EQ(b->optimizer_moments(true)[5].data, a->optimizer_moments(true)[5].data);
  // Both continue identically.
  a->forward_backward(batch, 1.0);
  b->forward_backward(batch, 1.0);
  EXPECT_EQ(a->optimizer_step(AdamWSettings{}, 1e-2), b->optimizer_step(AdamWSettings{}, 1e-2));
  EXPECT_EQ(a->parameters()[7].data, b->parameters()[7].data);

  // Names inside: weights by layout name, moments as adam_m./adam_v.
  const auto content = read_safetensors(dir / kCheckpointFileName);
  EXPECT_EQ(content.tensors[0].name, "emb.weight");
  EXPECT_EQ(content.metadata.at("format"), kCheckpointFormat);
  bool has_moment = false;
  for (const auto& t : content.tensors) has_moment |= t.name == "adam_v.blocks.1.moe.w2";
  EXPECT_TRUE(has_moment);

  // --init takes just the weights.
  const auto weights = load_initial_weights(dir / kCheckpointFileName, arch);
  EXPECT_EQ(weights[2].name, content.tensors[2].name);
  EXPECT_EQ(weights[2].data, content.tensors[2].data);

  // Another architecture is refused with both descriptions.
  auto other = make_cpu_backend(law::make_paper_architecture(16, 1, 2, 4, 2, 2, 19, 8), 1);
  const auto err = error_of([&] { load_checkpoint(dir.path(), *other); });
  EXPECT_NE(err.find("is for d16 L2"), std::string::npos) << err;
  EXPECT_NE(error_of([&] { load_checkpoint(dir / "none", *b); }).find("does not exist"),
            std::string::npos);
}

// The losses of the checkpoint's step travel with it, exactly (a sweep worker resuming a run
// that had already finished records them); a checkpoint without them reads as not measured.
TEST(Checkpoint, KeepsTheLastLossesBitForBit) {
  TempDir dir;
  const auto arch = law::make_paper_architecture(8, 1, 2, 2, 1, 1, 11, 4);
  auto a = make_cpu_backend(arch, 1);
  TrainingState s;
  save_checkpoint(dir / kCheckpointFileName, *a, s);
  auto b = make_cpu_backend(arch, 1);
  EXPECT_FALSE(load_checkpoint(dir.path(), *b).last_val_loss.has_value());
  EXPECT_FALSE(load_checkpoint(dir.path(), *b).last_train_loss.has_value());
  s.last_val_loss = 3.0354549512267113;
  s.last_train_loss = 0.1 + 0.2;  // not the shortest decimal of any nearby double
  save_checkpoint(dir / kCheckpointFileName, *a, s);
  const TrainingState back = load_checkpoint(dir.path(), *b);
  EXPECT_EQ(back.last_val_loss, s.last_val_loss);
  EXPECT_EQ(back.last_train_loss, s.last_train_loss);
}

TEST(Checkpoint, RewritingKeepsAValidFile) {
  TempDir dir;
  const auto arch = law::make_paper_architecture(8, 1, 2, 2, 1, 1, 11, 4);
  auto a = make_cpu_backend(arch, 1);
  TrainingState s;
  save_checkpoint(dir / kCheckpointFileName, *a, s);
  s.step = 1;
  save_checkpoint(dir / kCheckpointFileName, *a, s);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);  // no temporary left behind
  auto b = make_cpu_backend(arch, 2);
  EXPECT_EQ(load_checkpoint(dir.path(), *b).step, 1);
}

}  // namespace
}  // namespace moeplan::verify
