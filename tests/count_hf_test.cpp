// `count` on the published configs of public models (tests/data/hf/, copied from the models'
// config.json on the Hugging Face Hub): counts against what the authors state.
//
// Authors count "active" parameters three ways, and the report gives all three:
//   all embeddings (Mistral, Qwen, OLMoE, Phi, Meta)    -> active_params
//   without the input embedding, a table lookup (OpenAI gpt-oss, DeepSeek-V2/V3)
//                                                        -> active_without_input_embedding()
//   without any embedding (IBM Granite)                  -> active_non_embedding()
// Each test compares the convention its authors use. A stated number with two significant digits
// ("14B") only pins the count to within its rounding, which the tolerances below say.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "law/model_accounting.h"
#include "planner/hf_config.h"
#include "util/files.h"

namespace moeplan::planner {
namespace {

struct Counted {
  HfModel hf;
  law::ModelCounts counts;
};

Counted count(const std::string& name) {
  const std::string path = std::string(MOEPLAN_TEST_DATA_DIR) + "/hf/" + name + ".json";
  Counted c;
  c.hf = read_hf_config(read_file(path), path);
  c.counts = law::count_model(c.hf.model);
  return c;
}

// |counted / stated - 1| <= tolerance.
void expect_within(std::int64_t counted, double stated, double tolerance, const char* what) {
  const double error = static_cast<double>(counted) / stated - 1.0;
  EXPECT_LE(std::fabs(error), tolerance) << what << ": counted " << counted << ", stated " << stated
                                         << ", error " << error * 100 << "%";
}

TEST(CountPublished, Mixtral8x7B) {
  // Mistral AI, "Mixtral of experts" (2023): 46.7B total, 12.9B used per token.
  const Counted c = count("mixtral-8x7b-v0.1");
  EXPECT_EQ(c.counts.total, 46702792704);  // the checkpoint's own tensor total
  expect_within(c.counts.total, 46.7e9, 0.01, "total");
  expect_within(c.counts.active, 12.9e9, 0.01, "active");
}

TEST(CountPublished, Mixtral8x22B) {
  // Mistral AI, "Cheaper, Better, Faster, Stronger" (2024): 141B total, 39B active.
  const Counted c = count("mixtral-8x22b-instruct-v0.1");
  expect_within(c.counts.total, 141e9, 0.01, "total");
  expect_within(c.counts.active, 39e9, 0.01, "active");
}

TEST(CountPublished, OlmoE1B7B) {
  // Muennighoff et al. 2024, OLMoE (arXiv 2409.02060): 6.9B total, 1.3B active. 1.28B rounds to
  // the stated 1.3B (1.4%).
  const Counted c = count("olmoe-1b-7b-0924");
  expect_within(c.counts.total, 6.9e9, 0.01, "total");
  expect_within(c.counts.active, 1.3e9, 0.015, "active");
}

TEST(CountPublished, Qwen15MoeA27B) {
  // Qwen1.5-MoE-A2.7B model card: 14.3B parameters in total, 2.7B activated.
  const Counted c = count("qwen1.5-moe-a2.7b");
  expect_within(c.counts.total, 14.3e9, 0.01, "total");
  expect_within(c.counts.active, 2.7e9, 0.01, "active");
  EXPECT_GT(c.counts.shared_experts, 0);
}

TEST(CountPublished, Qwen2_57BA14B) {
  // Qwen2 technical report (arXiv 2407.10671), Table 1: 57B total, 14B activated. 14.25B is
  // within the rounding of "14B" (1.8%).
  const Counted c = count("qwen2-57b-a14b");
  expect_within(c.counts.total, 57e9, 0.01, "total");
  expect_within(c.counts.active, 14e9, 0.02, "active");
}

TEST(CountPublished, Qwen3_30BA3B) {
  // Qwen3-30B-A3B model card: 30.5B total, 3.3B activated, 29.9B non-embedding. The counted
  // 3.35B is "3.3B" truncated (1.6%).
  const Counted c = count("qwen3-30b-a3b");
  expect_within(c.counts.total, 30.5e9, 0.01, "total");
  expect_within(c.counts.non_embedding(), 29.9e9, 0.01, "non-embedding");
  expect_within(c.counts.active, 3.3e9, 0.02, "active");
}

TEST(CountPublished, Qwen3_235BA22B) {
  // Qwen3-235B-A22B model card: 235B total, 22B activated, 234B non-embedding.
  const Counted c = count("qwen3-235b-a22b");
  expect_within(c.counts.total, 235e9, 0.01, "total");
  expect_within(c.counts.non_embedding(), 234e9, 0.01, "non-embedding");
  expect_within(c.counts.active, 22e9, 0.01, "active");
}

TEST(CountPublished, DeepSeekMoE16B) {
  // Dai et al. 2024, DeepSeekMoE (arXiv 2401.06066), its 16B model: 16.4B total, 2.8B
  // activated, every embedding counted (without the input embedding it would be 2.6B).
  // By hand: embeddings 2·102400·2048, attention 28·4·2048², one dense layer 3·2048·10944,
  // 27 MoE layers of 64 routed + 2 shared experts of 3·2048·1408 and a 64·2048 router, RMSNorm
  // gains 57·2048.
  const Counted c = count("deepseek-moe-16b-base");
  EXPECT_EQ(c.hf.family, "DeepSeekMoE");
  EXPECT_EQ(c.counts.dense_layers, 1);
  EXPECT_EQ(c.counts.moe_layers, 27);
  EXPECT_EQ(c.counts.total, 16375728128);
  EXPECT_EQ(c.counts.active, 2828650496);
  expect_within(c.counts.total, 16.4e9, 0.005, "total");
  expect_within(c.counts.active, 2.8e9, 0.015, "active");
  EXPECT_EQ(published_active_convention("deepseek"), ActiveConvention::kAllEmbeddings);
  EXPECT_TRUE(c.hf.warnings.empty());
}

TEST(CountPublished, DeepSeekV2) {
  // DeepSeek-V2 (arXiv 2405.04434): 236B total, 21B activated.
  const Counted c = count("deepseek-v2");
  expect_within(c.counts.total, 236e9, 0.01, "total");
  expect_within(c.counts.active_without_input_embedding(), 21e9, 0.01, "active");
  EXPECT_EQ(c.counts.dense_layers, 1);
}

TEST(CountPublished, DeepSeekV2Lite) {
  // DeepSeek-V2-Lite model card: 15.7B total, 2.4B activated. The counted 2.45B (without the
  // input embedding) sits at the edge of the rounding of "2.4B" (2.1%).
  const Counted c = count("deepseek-v2-lite");
  EXPECT_EQ(c.hf.model.layers[1].attention.q_lora_rank, 0);  // q_lora_rank: null
  expect_within(c.counts.total, 15.7e9, 0.01, "total");
  expect_within(c.counts.active_without_input_embedding(), 2.4e9, 0.025, "active");
}

TEST(CountPublished, DeepSeekV3) {
  // DeepSeek-V3 (arXiv 2412.19437): 671B total, 37B activated; the Hugging Face checkpoint
  // holds 685B = 671B + 14B of MTP module (its layer plus copies of embedding and head). The
  // counted 36.6B active (without the input embedding) rounds to the stated 37B (1.0%).
  const Counted c = count("deepseek-v3");
  expect_within(c.counts.total, 671e9, 0.01, "total");
  expect_within(c.counts.active_without_input_embedding(), 37e9, 0.015, "active");
  EXPECT_EQ(c.counts.dense_layers, 3);
  EXPECT_EQ(c.hf.mtp_layers, 1);
  expect_within(c.counts.total + c.hf.mtp_params + c.counts.embedding(), 685e9, 0.01,
                "checkpoint with MTP");
}

TEST(CountPublished, Dbrx) {
  // Databricks, "Introducing DBRX" (2024): 132B total, 36B active. "36B" fits both 35.9B
  // (without the input embedding, 0.4%) and 36.5B (all embeddings, within its rounding).
  const Counted c = count("dbrx-instruct");
  expect_within(c.counts.total, 132e9, 0.01, "total");
  expect_within(c.counts.active_without_input_embedding(), 36e9, 0.01, "active");
  expect_within(c.counts.active, 36e9, 0.015, "active, all embeddings");
  EXPECT_FALSE(c.hf.model.tied_embeddings);  // the nested configs' flag is not the model's
}

TEST(CountPublished, GptOss120B) {
  // OpenAI gpt-oss model card (2025), Table 1: 116.83B total, 5.13B active (the un-embedding
  // counts as active, the input embedding does not).
  const Counted c = count("gpt-oss-120b");
  expect_within(c.counts.total, 116.83e9, 0.001, "total");
  expect_within(c.counts.active_without_input_embedding(), 5.13e9, 0.002, "active");
}

TEST(CountPublished, GptOss20B) {
  // OpenAI gpt-oss model card (2025), Table 1: 20.91B total, 3.61B active.
  const Counted c = count("gpt-oss-20b");
  expect_within(c.counts.total, 20.91e9, 0.001, "total");
  expect_within(c.counts.active_without_input_embedding(), 3.61e9, 0.002, "active");
}

TEST(CountPublished, Granite3BA800M) {
  // IBM Granite 3.0/3.1 3B-A800M model card: 3.3B total, 800M active (without embeddings). The
  // 3.1 config is the 3.0 architecture with a longer context.
  const Counted c = count("granite-3.1-3b-a800m");
  EXPECT_TRUE(c.hf.model.tied_embeddings);
  expect_within(c.counts.total, 3.3e9, 0.01, "total");
  expect_within(c.counts.active_non_embedding(), 0.8e9, 0.01, "active");
}

TEST(CountPublished, Phi35MoE) {
  // Phi-3.5-MoE-instruct model card: 41.9B parameters, 6.6B active.
  const Counted c = count("phi-3.5-moe-instruct");
  expect_within(c.counts.total, 41.9e9, 0.01, "total");
  expect_within(c.counts.active, 6.6e9, 0.01, "active");
}

TEST(CountPublished, Llama4Maverick) {
  // Meta, "The Llama 4 herd" (2025): 400B total, 17B active. Half the layers are dense.
  const Counted c = count("llama-4-maverick-17b-128e");
  EXPECT_EQ(c.counts.moe_layers, 24);
  expect_within(c.counts.total, 400e9, 0.01, "total");
  expect_within(c.counts.active, 17e9, 0.015, "active");
}

TEST(CountPublished, Llama4Scout) {
  // Meta: 109B total, 17B active. The 109B includes the vision encoder (about 0.9B), which
  // count excludes: the text model is 107.8B, 1.1% under.
  const Counted c = count("llama-4-scout-17b-16e");
  EXPECT_EQ(c.counts.moe_layers, 48);
  expect_within(c.counts.total, 109e9, 0.015, "total");
  expect_within(c.counts.active, 17e9, 0.015, "active");
}

TEST(CountPublished, Llama31_8BDense) {
  // Meta Llama 3.1 8B: 8.03B parameters (the checkpoint's tensor total).
  const Counted c = count("llama-3.1-8b");
  EXPECT_EQ(c.counts.total, 8030261248);
  EXPECT_EQ(c.counts.active, c.counts.total);
}

}  // namespace
}  // namespace moeplan::planner
