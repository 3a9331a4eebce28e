// `count` on configs whose model_type moeplan does not know: the generic reader of common keys,
// its warning, the "did you mean" rule for near misses, and the context fallback.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "law/model_accounting.h"
#include "planner/export.h"
#include "planner/hf_config.h"
#include "support/cli_runner.h"
#include "support/expect_error.h"
#include "util/files.h"

namespace moeplan::planner {
namespace {

using nlohmann::json;

json published(const std::string& name) {
  return json::parse(read_file(std::string(MOEPLAN_TEST_DATA_DIR) + "/hf/" + name + ".json"));
}

// The same config under a model_type no family has and none is spelt close to.
HfModel as_unknown(json config, const std::string& type = "acme_moe") {
  config["model_type"] = type;
  return read_hf_config(config.dump(), type + ".json");
}

law::ModelCounts counts_of(const std::string& name) {
  const std::string path = std::string(MOEPLAN_TEST_DATA_DIR) + "/hf/" + name + ".json";
  return law::count_model(read_hf_config(read_file(path), path).model);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Families whose every parameter is a common key read to exactly the family reader's counts.
TEST(GenericReader, CommonKeyFamiliesReadToTheFamilyCounts) {
  for (const std::string name :
       {"mixtral-8x7b-v0.1", "deepseek-moe-16b-base", "llama-3.1-8b", "qwen2-57b-a14b"}) {
    SCOPED_TRACE(name);
    const HfModel generic = as_unknown(published(name));
    const law::ModelCounts got = law::count_model(generic.model);
    const law::ModelCounts want = counts_of(name);
    if (name == "qwen2-57b-a14b") {
      // Qwen2-MoE's own parameters, which no common key states and the warning names: the
      // shared-expert gate (d → 1) and the q, k, v biases (28·128 + 2·4·128), in 28 layers.
      const std::int64_t own = 28 * (3584 + 28 * 128 + 2 * 4 * 128);
      EXPECT_EQ(want.total - got.total, own);
      EXPECT_EQ(want.active - got.active, own);
      continue;
    }
    EXPECT_EQ(got.total, want.total);
    EXPECT_EQ(got.active, want.active);
    EXPECT_EQ(got.moe_layers, want.moe_layers);
    EXPECT_EQ(got.shared_experts, want.shared_experts);
    ASSERT_EQ(generic.warnings.size(), 1u);
    EXPECT_TRUE(contains(generic.warnings[0], "model_type 'acme_moe'"));
    EXPECT_TRUE(contains(generic.warnings[0], "generic reader"));
    EXPECT_EQ(generic.family, "generic reader");
  }
}

TEST(GenericReader, ReadsTheCommonKeysUnderTheirOtherNames) {
  const json config = {{"model_type", "acme"},
                       {"d_model", 256},
                       {"n_layers", 4},
                       {"n_heads", 8},
                       {"num_kv_heads", 2},
                       {"vocab_size", 1000},
                       {"moe_num_experts", 16},
                       {"moe_top_k", 2},
                       {"expert_intermediate_size", 128},
                       {"num_shared_experts", 1},
                       {"first_k_dense_replace", 1},
                       {"intermediate_size", 512},
                       {"head_dim", 64},
                       {"tie_word_embeddings", false},
                       {"max_seq_len", 4096}};
  const HfModel m = read_hf_config(config.dump(), "acme.json");
  const law::ModelCounts c = law::count_model(m.model);
  EXPECT_EQ(c.moe_layers, 3);
  EXPECT_EQ(c.dense_layers, 1);
  const std::int64_t d = 256, expert = 3 * d * 128;
  EXPECT_EQ(c.experts_total, 3 * 16 * expert);
  EXPECT_EQ(c.experts_active, 3 * 2 * expert);
  EXPECT_EQ(c.shared_experts, 3 * expert);
  EXPECT_EQ(c.dense_mlp, 3 * d * 512);
  // q and o: 8 heads of 64; k and v: 2 heads of 64.
  EXPECT_EQ(c.attention, 4 * (d * 8 * 64 * 2 + d * 2 * 64 * 2));
  EXPECT_EQ(c.input_embedding, 1000 * d);
  ASSERT_TRUE(m.context.has_value());
  EXPECT_EQ(*m.context, 4096);
}

TEST(GenericReader, NotesEachDefaultOnce) {
  json config = published("mixtral-8x7b-v0.1");  // experts of width intermediate_size
  config.erase("num_key_value_heads");
  const HfModel m = as_unknown(config);
  int width_notes = 0, kv_notes = 0;
  for (const std::string& note : m.notes) {
    width_notes += contains(note, "moe_intermediate_size absent") ? 1 : 0;
    kv_notes += contains(note, "num_key_value_heads absent") ? 1 : 0;
  }
  EXPECT_EQ(width_notes, 1);
  EXPECT_EQ(kv_notes, 1);
}

// save_pretrained leaves tie_word_embeddings out when it is true (PretrainedConfig's default),
// so the generic reader takes true when it is absent, and notes it.
TEST(GenericReader, AbsentTieFlagIsPretrainedConfigsDefault) {
  json config = published("llama-3.1-8b");
  config.erase("tie_word_embeddings");
  const HfModel m = as_unknown(config);
  EXPECT_TRUE(m.model.tied_embeddings);
  bool noted = false;
  for (const std::string& note : m.notes) noted = noted || contains(note, "tie_word_embeddings");
  EXPECT_TRUE(noted);
}

TEST(GenericReader, MultimodalWrapperReadsItsTextConfig) {
  const json config = {{"model_type", "acme_vl"},
                       {"vision_config", {{"hidden_size", 1024}}},
                       {"text_config",
                        {{"hidden_size", 64},
                         {"num_hidden_layers", 2},
                         {"num_attention_heads", 4},
                         {"vocab_size", 100},
                         {"intermediate_size", 128},
                         {"tie_word_embeddings", false}}}};
  const HfModel m = read_hf_config(config.dump(), "vl.json");
  EXPECT_EQ(m.model.d_model, 64);
  EXPECT_EQ(law::count_model(m.model).total,
            2 * 100 * 64 + 2 * (4 * 64 * 64 + 3 * 64 * 128 + 2 * 64) + 64);
}

// The threshold: closest_match's (a third of the name in edits, 1 to 3). A near miss whose config
// reads as the near family is a typo; one that does not (a real family spelt close) is read
// generically, and its warning says which family it was not taken for.
TEST(GenericReader, NearMissesAreTyposOnlyWhenTheKeysFit) {
  json mixtral = published("mixtral-8x7b-v0.1");
  mixtral["model_type"] = "mixtrl";
  const std::string typo = testing::error_of([&] { read_hf_config(mixtral.dump(), "typo.json"); });
  EXPECT_TRUE(contains(typo, "did you mean 'mixtral'")) << typo;

  json olmo = published("llama-3.1-8b");  // a dense decoder, as OLMo is
  const HfModel dense = as_unknown(olmo, "olmo");
  ASSERT_EQ(dense.warnings.size(), 1u);
  EXPECT_TRUE(contains(dense.warnings[0], "not read as 'olmoe'")) << dense.warnings[0];
  EXPECT_EQ(law::count_model(dense.model).total, counts_of("llama-3.1-8b").total);
}

TEST(GenericReader, UnreadableConfigsNameTheGenericReaderAndTheKey) {
  const std::string e = testing::error_of(
      [] { read_hf_config(R"({"model_type": "acme", "num_hidden_layers": 2})", "a.json"); });
  EXPECT_TRUE(contains(e, "not a family moeplan knows")) << e;
  EXPECT_TRUE(contains(e, "'hidden_size' is missing (and so are d_model, n_embd)")) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);
  const std::string k = testing::error_of([] {
    read_hf_config(R"({"model_type": "acme", "hidden_size": 64, "num_hidden_layers": 2,
                       "num_attention_heads": 4, "vocab_size": 100, "num_experts": 8,
                       "intermediate_size": 32})",
                   "a.json");
  });
  EXPECT_TRUE(contains(k, "'num_experts_per_tok' is missing")) << k;
}

// The plan's Hugging Face export, relabelled, reads back through the generic reader: everything
// but the per-head QK-norm gains (2·head_dim a layer), which are Qwen3-MoE's own and which no
// common key states. Through its own family (qwen3_moe) it reads back exactly.
TEST(GenericReader, PlanExportReadsBackButForTheQkNorms) {
  law::MoeArchitecture tied = law::make_paper_architecture(512, 8, 8, 16, 2, 1, 50432, 2048);
  tied.tied_embeddings = true;
  for (const law::MoeArchitecture& arch :
       {law::make_paper_architecture(256, 4, 4, 8, 1, 1, 8192, 512),
        law::make_paper_architecture(1024, 12, 16, 64, 8, 4, 50432, 2048),
        law::make_paper_architecture(768, 6, 12, 1, 1, 1, 32000, 1024), tied}) {
    SCOPED_TRACE(law::describe(arch));
    const HfModel known = read_hf_config(export_hf_config(arch), "export.json");
    const HfModel generic = as_unknown(json::parse(export_hf_config(arch)));
    const law::ModelCounts want = law::count_model(known.model);
    const law::ModelCounts got = law::count_model(generic.model);
    EXPECT_EQ(want.total, law::count_params(arch).total);
    EXPECT_EQ(want.active, law::count_params(arch).active);
    const std::int64_t qk_norms = arch.n_layers * 2 * arch.head_dim();
    EXPECT_EQ(want.total - got.total, qk_norms);
    EXPECT_EQ(want.active - got.active, qk_norms);
    EXPECT_EQ(got.embedding(), want.embedding());
    EXPECT_EQ(got.experts_total, want.experts_total);
    EXPECT_EQ(got.attention, want.attention);
    ASSERT_TRUE(generic.context.has_value());
    EXPECT_EQ(*generic.context, arch.context);
  }
}

}  // namespace

// The command: exit 0, the warning once on stderr, in the JSON, and the context fallback.
namespace {

using moeplan::testing::run_moeplan;
using moeplan::testing::TempDir;
using moeplan::testing::write_text_file;

TEST(GenericCountCli, WarnsOnceAndCountsAnUnknownFamily) {
  TempDir dir;
  json config = published("deepseek-moe-16b-base");
  config["model_type"] = "acme_moe";
  write_text_file(dir / "c.json", config.dump());
  const auto r = run_moeplan({"count", (dir / "c.json").string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "moeplan: warning: model_type 'acme_moe' is not a family")) << r.err;
  EXPECT_EQ(r.err.find("warning"), r.err.rfind("warning"));
  const json j = json::parse(r.out);
  EXPECT_EQ(j["total_params"].get<std::int64_t>(), counts_of("deepseek-moe-16b-base").total);
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_EQ(j["family"], "generic reader");
}

// max_position_embeddings only feeds the attention FLOPs: without it, count uses the --context
// default and says so, instead of stopping.
TEST(GenericCountCli, MissingContextFallsBackWithANote) {
  TempDir dir;
  json config = published("mixtral-8x7b-v0.1");
  config.erase("max_position_embeddings");
  write_text_file(dir / "c.json", config.dump());
  const auto r = run_moeplan({"count", (dir / "c.json").string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["context"].get<std::int64_t>(), law::MoeArchitecture{}.context);
  EXPECT_EQ(j["context_source"], "default");
  EXPECT_TRUE(contains(j["notes"].dump(), "max_position_embeddings absent")) << j["notes"];
  const auto given =
      run_moeplan({"count", (dir / "c.json").string(), "--format", "json", "--context", "512"});
  ASSERT_EQ(given.exit_code, 0) << given.err;
  EXPECT_EQ(json::parse(given.out)["context"].get<int>(), 512);
}

}  // namespace
}  // namespace moeplan::planner
