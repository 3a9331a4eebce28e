// The general model description (law/model_accounting.h): it reproduces the paper family's
// count_params exactly, and each structural feature adds exactly its parameters.
#include <gtest/gtest.h>

#include "law/architecture.h"
#include "law/flops.h"
#include "law/model_accounting.h"
#include "util/error.h"

namespace moeplan::law {
namespace {

TEST(ModelAccounting, ReproducesPaperFamilyCountsExactly) {
  struct Shape {
    std::int64_t d, layers, heads, experts, active, granularity, vocab, context;
  };
  const Shape shapes[] = {
      {256, 4, 4, 8, 1, 1, 8192, 512},       {512, 8, 8, 8, 2, 1, 50432, 2048},
      {1024, 12, 16, 64, 8, 4, 50432, 2048}, {2048, 24, 16, 32, 2, 2, 50432, 4096},
      {768, 6, 12, 1, 1, 1, 32000, 1024},    {4096, 32, 32, 128, 16, 8, 128256, 8192},
  };
  for (const Shape& s : shapes) {
    for (bool tied : {false, true}) {
      MoeArchitecture a = make_paper_architecture(s.d, s.layers, s.heads, s.experts, s.active,
                                                  s.granularity, s.vocab, s.context);
      a.tied_embeddings = tied;
      const ParamCounts want = count_params(a);
      const ModelCounts got = count_model(describe_paper_architecture(a));
      SCOPED_TRACE(describe(a));
      EXPECT_EQ(got.total, want.total);
      EXPECT_EQ(got.active, want.active);
      EXPECT_EQ(got.embedding(), want.embedding);
      EXPECT_EQ(got.attention, want.attention);
      EXPECT_EQ(got.router, want.router);
      EXPECT_EQ(got.experts_total, want.experts_total);
      EXPECT_EQ(got.experts_active, want.experts_active);
      EXPECT_EQ(got.norms, want.norms);
      // The attention FLOP term is App. C's 2·C·n_ctx·d per layer.
      EXPECT_DOUBLE_EQ(
          model_attention_flops_per_token(describe_paper_architecture(a), s.context),
          attention_flops_per_token(static_cast<double>(s.layers), static_cast<double>(s.context),
                                    static_cast<double>(s.d), static_cast<double>(s.d)));
    }
  }
}

ModelDescription one_layer(const LayerSpec& layer, std::int64_t d = 64, std::int64_t vocab = 100) {
  ModelDescription m;
  m.d_model = d;
  m.vocab_size = vocab;
  m.layers = {layer};
  return m;
}

LayerSpec dense_layer(std::int64_t heads, std::int64_t kv_heads, std::int64_t head_dim,
                      std::int64_t hidden) {
  LayerSpec l;
  l.attention.n_heads = heads;
  l.attention.n_kv_heads = kv_heads;
  l.attention.head_dim = head_dim;
  l.dense = MlpSpec{hidden, true, false};
  return l;
}

TEST(ModelAccounting, GroupedQueryAttentionAndHeadDim) {
  // d 64, 8 query heads of 16 (H·head_dim = 128 ≠ d), 2 KV heads.
  const ModelCounts c = count_model(one_layer(dense_layer(8, 2, 16, 96)));
  EXPECT_EQ(c.attention, 64 * 128 + 2 * 64 * 32 + 128 * 64);
  EXPECT_EQ(c.dense_mlp, 3 * 64 * 96);
  EXPECT_EQ(c.norms, 2 * 64 + 64);
  EXPECT_EQ(c.embedding(), 2 * 100 * 64);
  EXPECT_EQ(c.total, c.active);
}

TEST(ModelAccounting, BiasesSinksAndNormKinds) {
  LayerSpec l = dense_layer(4, 2, 16, 96);
  const std::int64_t base = count_model(one_layer(l)).total;
  l.attention.qkv_bias = true;
  EXPECT_EQ(count_model(one_layer(l)).total - base, 64 + 2 * 32);
  l.attention.out_bias = true;
  l.attention.sinks = 4;
  EXPECT_EQ(count_model(one_layer(l)).total - base, 64 + 2 * 32 + 64 + 4);
  l = dense_layer(4, 2, 16, 96);
  l.dense.bias = true;
  EXPECT_EQ(count_model(one_layer(l)).total - base, 2 * 96 + 64);
  l = dense_layer(4, 2, 16, 96);
  l.norm = NormKind::kLayerNorm;
  EXPECT_EQ(count_model(one_layer(l)).total - base, 2 * 64);
  ModelDescription m = one_layer(dense_layer(4, 2, 16, 96));
  m.lm_head_bias = true;
  m.final_norm = NormKind::kLayerNormNoBias;
  EXPECT_EQ(count_model(m).total - base, 100);
}

TEST(ModelAccounting, TiedEmbeddingsCountOnce) {
  ModelDescription m = one_layer(dense_layer(4, 4, 16, 96));
  const ModelCounts untied = count_model(m);
  m.tied_embeddings = true;
  const ModelCounts tied = count_model(m);
  EXPECT_EQ(untied.total - tied.total, 100 * 64);
  EXPECT_EQ(tied.input_embedding, 0);
  EXPECT_EQ(tied.output_embedding, 100 * 64);
  EXPECT_EQ(tied.active_without_input_embedding(), tied.active);
}

TEST(ModelAccounting, SharedExpertsRouterBiasAndActiveCount) {
  LayerSpec l;
  l.attention.n_heads = 4;
  l.attention.n_kv_heads = 4;
  l.attention.head_dim = 16;
  l.is_moe = true;
  l.moe.experts = 8;
  l.moe.active_experts = 2;
  l.moe.expert = MlpSpec{32, true, false};
  l.moe.shared = MlpSpec{48, true, false};
  l.moe.shared_gate = true;
  l.moe.router_bias = true;
  const ModelCounts c = count_model(one_layer(l));
  EXPECT_EQ(c.router, 64 * 8 + 8);
  EXPECT_EQ(c.experts_total, 8 * 3 * 64 * 32);
  EXPECT_EQ(c.experts_active, 2 * 3 * 64 * 32);
  EXPECT_EQ(c.shared_experts, 3 * 64 * 48 + 64);
  EXPECT_EQ(c.total - c.active, 6 * 3 * 64 * 32);
  EXPECT_EQ(layer_params(l, 64, false) - layer_params(l, 64, true), 6 * 3 * 64 * 32);
}

TEST(ModelAccounting, LatentAttentionWithAndWithoutQueryCompression) {
  LayerSpec l = dense_layer(4, 4, 16, 96);
  l.attention = AttentionSpec{};
  l.attention.latent = true;
  l.attention.n_heads = 4;
  l.attention.kv_lora_rank = 32;
  l.attention.qk_nope_head_dim = 16;
  l.attention.qk_rope_head_dim = 8;
  l.attention.v_head_dim = 12;
  const std::int64_t kv = 64 * (32 + 8) + 32 * 4 * (16 + 12) + 4 * 12 * 64;
  ModelCounts c = count_model(one_layer(l));
  EXPECT_EQ(c.attention, 64 * 4 * 24 + kv);
  EXPECT_EQ(c.norms, 32 + 2 * 64 + 64);  // kv_a_layernorm + block norms + final norm
  l.attention.q_lora_rank = 20;
  c = count_model(one_layer(l));
  EXPECT_EQ(c.attention, 64 * 20 + 20 * 4 * 24 + kv);
  EXPECT_EQ(c.norms, 20 + 32 + 2 * 64 + 64);
  // Attention FLOPs use the query/key width H·(nope + rope) and the value width H·v_head_dim.
  EXPECT_DOUBLE_EQ(model_attention_flops_per_token(one_layer(l), 1000),
                   attention_flops_per_token(1, 1000, 4 * 24, 4 * 12));
}

TEST(ModelAccounting, WindowsCapTheAttendedContext) {
  LayerSpec l = dense_layer(4, 4, 16, 96);
  l.attention.window = 128;
  const ModelDescription m = one_layer(l);
  EXPECT_DOUBLE_EQ(model_attention_flops_per_token(m, 4096),
                   attention_flops_per_token(1, 128, 64, 64));
  EXPECT_DOUBLE_EQ(model_attention_flops_per_token(m, 100),
                   attention_flops_per_token(1, 100, 64, 64));
  EXPECT_DOUBLE_EQ(model_flops_per_token(m, 100),
                   six_na_flops_per_token(static_cast<double>(count_model(m).active)) +
                       attention_flops_per_token(1, 100, 64, 64));
}

TEST(ModelAccounting, MalformedDescriptionsAreRejected) {
  LayerSpec l = dense_layer(4, 3, 16, 96);
  EXPECT_NO_THROW(count_model(one_layer(l)));
  l.attention.n_kv_heads = 5;
  EXPECT_THROW(count_model(one_layer(l)), Error);
  l = dense_layer(4, 4, 16, 0);
  EXPECT_THROW(count_model(one_layer(l)), Error);
  l = dense_layer(4, 4, 16, 96);
  l.is_moe = true;
  l.moe.experts = 4;
  l.moe.active_experts = 5;
  l.moe.expert.hidden = 8;
  EXPECT_THROW(count_model(one_layer(l)), Error);
  ModelDescription empty;
  empty.d_model = 64;
  empty.vocab_size = 10;
  EXPECT_THROW(count_model(empty), Error);
}

}  // namespace
}  // namespace moeplan::law
