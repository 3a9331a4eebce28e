#include "law/model_accounting.h"

#include <algorithm>

#include "law/flops.h"
#include "util/checked_count.h"
#include "util/error.h"

namespace moeplan::law {

std::int64_t norm_params(NormKind kind, std::int64_t width) {
  switch (kind) {
    case NormKind::kRms:
      return width;
    case NormKind::kLayerNorm:
      return (CheckedCount(2) * width).value();
    case NormKind::kLayerNormNoBias:
      return width;
    case NormKind::kNone:
      return 0;
  }
  return 0;
}

std::int64_t mlp_params(const MlpSpec& mlp, std::int64_t d_model) {
  if (mlp.hidden == 0) return 0;
  const CheckedCount in_projections = mlp.gated ? 2 : 1;
  CheckedCount params = (in_projections + 1) * d_model * mlp.hidden;
  if (mlp.bias) params += in_projections * mlp.hidden + d_model;
  return params.value();
}

namespace {

// Checked (util/checked_count.h): a hostile config's dimensions overflow int64 here.
struct AttentionCounts {
  CheckedCount projections = 0;  // weights, biases, sinks
  CheckedCount norms = 0;        // QK-norm gains, MLA's latent norms
};

AttentionCounts attention_counts(const AttentionSpec& a, CheckedCount d) {
  AttentionCounts c;
  if (a.latent) {
    const CheckedCount qk = CheckedCount(a.qk_nope_head_dim) + a.qk_rope_head_dim;
    const CheckedCount bias = a.latent_bias ? 1 : 0;
    if (a.q_lora_rank > 0) {
      c.projections += d * a.q_lora_rank + bias * a.q_lora_rank;      // q_a
      c.projections += CheckedCount(a.q_lora_rank) * a.n_heads * qk;  // q_b
      c.norms += a.q_lora_rank;                                       // q_a_layernorm
    } else {
      c.projections += d * a.n_heads * qk;  // q_proj (no bias in either DeepSeek code)
    }
    const CheckedCount kv_a = CheckedCount(a.kv_lora_rank) + a.qk_rope_head_dim;
    c.projections += d * kv_a + bias * kv_a;  // kv_a (MQA rope key)
    c.projections += CheckedCount(a.kv_lora_rank) * a.n_heads *
                     (CheckedCount(a.qk_nope_head_dim) + a.v_head_dim);
    c.norms += a.kv_lora_rank;                                               // kv_a_layernorm
    c.projections += CheckedCount(a.n_heads) * a.v_head_dim * d + bias * d;  // o_proj
  } else {
    const CheckedCount q = CheckedCount(a.n_heads) * a.head_dim;
    const CheckedCount kv = CheckedCount(a.n_kv_heads) * a.head_dim;
    c.projections += d * (q + kv * 2) + q * d;
    if (a.qkv_bias) c.projections += q + kv * 2;
    if (a.out_bias) c.projections += d;
    c.norms += CheckedCount(a.q_norm_width) + a.k_norm_width;  // RMSNorm gains
  }
  c.projections += a.sinks;
  return c;
}

void validate_attention(const AttentionSpec& a, std::size_t layer) {
  if (a.n_heads <= 0) fail("layer ", layer, ": attention heads must be positive, got ", a.n_heads);
  if (a.window < 0) fail("layer ", layer, ": attention window must not be negative");
  if (a.latent) {
    if (a.kv_lora_rank <= 0) fail("layer ", layer, ": kv_lora_rank must be positive");
    if (a.q_lora_rank < 0) fail("layer ", layer, ": q_lora_rank must not be negative");
    if (a.qk_nope_head_dim < 0 || a.qk_rope_head_dim < 0 ||
        a.qk_nope_head_dim + a.qk_rope_head_dim <= 0)
      fail("layer ", layer, ": MLA query/key head dims must be positive");
    if (a.v_head_dim <= 0) fail("layer ", layer, ": v_head_dim must be positive");
  } else {
    if (a.head_dim <= 0) fail("layer ", layer, ": head_dim must be positive, got ", a.head_dim);
    if (a.n_kv_heads <= 0 || a.n_kv_heads > a.n_heads)
      fail("layer ", layer, ": key/value heads must be in [1, ", a.n_heads, "], got ",
           a.n_kv_heads);
  }
}

}  // namespace

void validate(const ModelDescription& m) {
  if (m.d_model <= 0) fail("hidden size must be positive, got ", m.d_model);
  if (m.layers.size() > static_cast<std::size_t>(kMaxLayers))
    fail("the model has ", m.layers.size(), " layers, more than the ", kMaxLayers,
         " moeplan reads");
  if (m.vocab_size <= 0) fail("vocabulary size must be positive, got ", m.vocab_size);
  if (m.layers.empty()) fail("the model has no layers");
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const LayerSpec& layer = m.layers[i];
    validate_attention(layer.attention, i);
    if (layer.is_moe) {
      const MoeSpec& moe = layer.moe;
      if (moe.experts <= 0) fail("layer ", i, ": experts must be positive, got ", moe.experts);
      if (moe.active_experts <= 0 || moe.active_experts > moe.experts)
        fail("layer ", i, ": active experts must be in [1, ", moe.experts, "], got ",
             moe.active_experts);
      if (moe.expert.hidden <= 0)
        fail("layer ", i, ": expert width must be positive, got ", moe.expert.hidden);
      if (moe.shared.hidden < 0) fail("layer ", i, ": shared expert width must not be negative");
    } else if (layer.dense.hidden <= 0) {
      fail("layer ", i, ": MLP width must be positive, got ", layer.dense.hidden);
    }
    if (layer.norms < 0) fail("layer ", i, ": norm count must not be negative");
  }
}

std::int64_t layer_params(const LayerSpec& layer, std::int64_t d_model, bool active_only) {
  const CheckedCount d = d_model;
  const AttentionCounts a = attention_counts(layer.attention, d);
  CheckedCount params =
      a.projections + a.norms + CheckedCount(layer.norms) * norm_params(layer.norm, d_model);
  if (layer.is_moe) {
    const MoeSpec& moe = layer.moe;
    const std::int64_t routed = active_only ? moe.active_experts : moe.experts;
    params += d * moe.experts + (moe.router_bias ? moe.experts : 0);
    params += CheckedCount(routed) * mlp_params(moe.expert, d_model);
    params += CheckedCount(mlp_params(moe.shared, d_model)) + (moe.shared_gate ? d : 0);
  } else {
    params += mlp_params(layer.dense, d_model);
  }
  return params.value();
}

ModelCounts count_model(const ModelDescription& m) {
  validate(m);
  const CheckedCount d = m.d_model;
  // The sums in checked counts (util/checked_count.h), copied into c at the end.
  CheckedCount attention, norms, router, experts_total, experts_active, shared_experts, dense_mlp;
  ModelCounts c;
  for (const LayerSpec& layer : m.layers) {
    const AttentionCounts a = attention_counts(layer.attention, d);
    attention += a.projections;
    norms += a.norms + CheckedCount(layer.norms) * norm_params(layer.norm, m.d_model);
    if (layer.is_moe) {
      const MoeSpec& moe = layer.moe;
      const CheckedCount expert = mlp_params(moe.expert, m.d_model);
      router += d * moe.experts + (moe.router_bias ? moe.experts : 0);
      experts_total += expert * moe.experts;
      experts_active += expert * moe.active_experts;
      shared_experts += CheckedCount(mlp_params(moe.shared, m.d_model)) + (moe.shared_gate ? d : 0);
      ++c.moe_layers;
    } else {
      dense_mlp += mlp_params(layer.dense, m.d_model);
      ++c.dense_layers;
    }
  }
  norms += norm_params(m.final_norm, m.d_model);
  const CheckedCount output_embedding = d * m.vocab_size + (m.lm_head_bias ? m.vocab_size : 0);
  const CheckedCount input_embedding = m.tied_embeddings ? 0 : d * m.vocab_size;
  const CheckedCount always_active =
      input_embedding + output_embedding + attention + router + shared_experts + dense_mlp + norms;
  c.attention = attention.value();
  c.norms = norms.value();
  c.router = router.value();
  c.experts_total = experts_total.value();
  c.experts_active = experts_active.value();
  c.shared_experts = shared_experts.value();
  c.dense_mlp = dense_mlp.value();
  c.output_embedding = output_embedding.value();
  c.input_embedding = input_embedding.value();
  c.total = (always_active + experts_total).value();
  c.active = (always_active + experts_active).value();
  return c;
}

double model_attention_flops_per_token(const ModelDescription& m, std::int64_t context) {
  if (context <= 0) fail("context must be positive, got ", context);
  double flops = 0;
  for (const LayerSpec& layer : m.layers) {
    const AttentionSpec& a = layer.attention;
    const std::int64_t attended = a.window > 0 ? std::min(a.window, context) : context;
    flops += attention_flops_per_token(1.0, static_cast<double>(attended),
                                       static_cast<double>(a.n_heads) * a.qk_head_dim(),
                                       static_cast<double>(a.n_heads) * a.value_head_dim());
  }
  return flops;
}

double model_flops_per_token(const ModelDescription& m, std::int64_t context) {
  return six_na_flops_per_token(static_cast<double>(count_model(m).active)) +
         model_attention_flops_per_token(m, context);
}

ModelDescription describe_paper_architecture(const MoeArchitecture& arch) {
  validate(arch);
  ModelDescription m;
  m.d_model = arch.d_model;
  m.vocab_size = arch.vocab_size;
  m.tied_embeddings = arch.tied_embeddings;
  LayerSpec layer;
  layer.attention.n_heads = arch.n_heads;
  layer.attention.n_kv_heads = arch.n_heads;
  layer.attention.head_dim = arch.head_dim();
  layer.attention.q_norm_width = arch.head_dim();  // QK-norm gains shared across heads
  layer.attention.k_norm_width = arch.head_dim();
  layer.is_moe = true;
  layer.moe.experts = arch.experts;
  layer.moe.active_experts = arch.active_experts;
  layer.moe.expert = MlpSpec{arch.expert_hidden, true, false};
  m.layers.assign(static_cast<std::size_t>(arch.n_layers), layer);
  return m;
}

}  // namespace moeplan::law
