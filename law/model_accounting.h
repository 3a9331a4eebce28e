#pragma once
// Exact parameter accounting of real decoder-only architectures, MoE or dense: a general model
// description (one entry per layer) and its counts. `count` reads Hugging Face configs into this
// description (planner/hf_config.h); the paper's family (law/architecture.h) is the special case
// built by describe_paper_architecture, whose counts equal count_params exactly.
//
// Conventions (stated again in every `count` report):
//   - embeddings count in the total and in the active parameters; the un-embedding counts;
//     tied embeddings count once;
//   - the router and the shared experts are active; K routed experts per MoE layer are active;
//   - every weight, bias, norm gain and learned scalar the model's forward pass reads counts;
//     buffers that are not learned (RoPE tables) do not.
#include <cstdint>
#include <string>
#include <vector>

#include "law/architecture.h"

namespace moeplan::law {

// Parameters of one normalisation of width w: RMSNorm w, LayerNorm 2·w (gain and bias),
// LayerNorm without bias w (DBRX), parameter-free (Llama 4's L2 QK-norm) 0.
enum class NormKind { kRms, kLayerNorm, kLayerNormNoBias, kNone };
std::int64_t norm_params(NormKind kind, std::int64_t width);

// Multi-head attention with grouped-query K/V, or DeepSeek's multi-head latent attention (MLA).
struct AttentionSpec {
  bool latent = false;  // MLA
  std::int64_t n_heads = 0;
  // Standard attention: q: d → H·head_dim, k, v: d → H_kv·head_dim, o: H·head_dim → d.
  std::int64_t n_kv_heads = 0;
  std::int64_t head_dim = 0;
  bool qkv_bias = false;
  bool out_bias = false;
  std::int64_t q_norm_width = 0;  // QK-norm gains: head_dim (per head, shared) or H·head_dim
  std::int64_t k_norm_width = 0;
  std::int64_t sinks = 0;  // learned per-head attention-sink logits (gpt-oss)
  // MLA: q = W_qb·norm(W_qa·x) (or W_q·x when q_lora_rank = 0), [c_kv, k_rope] = W_kva·x,
  // [k_nope, v] = W_kvb·norm(c_kv); o: H·v_head_dim → d.
  std::int64_t q_lora_rank = 0;
  std::int64_t kv_lora_rank = 0;
  std::int64_t qk_nope_head_dim = 0;
  std::int64_t qk_rope_head_dim = 0;
  std::int64_t v_head_dim = 0;
  bool latent_bias = false;  // MLA's attention_bias: on q_a, kv_a and o projections
  // Tokens a query attends to at most (sliding window, chunked attention); 0 = the whole context.
  std::int64_t window = 0;

  std::int64_t qk_head_dim() const {
    return latent ? qk_nope_head_dim + qk_rope_head_dim : head_dim;
  }
  std::int64_t value_head_dim() const { return latent ? v_head_dim : head_dim; }
};

// A feed-forward block: GLU (gate and up d→h, down h→d: 3·d·h) or plain (2·d·h), with optional
// biases (2·h + d for a GLU, h + d plain). hidden = 0 means absent.
struct MlpSpec {
  std::int64_t hidden = 0;
  bool gated = true;
  bool bias = false;
};
std::int64_t mlp_params(const MlpSpec& mlp, std::int64_t d_model);

struct MoeSpec {
  std::int64_t experts = 0;         // routed experts E
  std::int64_t active_experts = 0;  // K
  MlpSpec expert;
  bool router_bias = false;  // E extra router parameters (gpt-oss bias; DeepSeek-V3's
                             // e_score_correction_bias)
  MlpSpec shared;            // shared experts, all of them together (always active)
  bool shared_gate = false;  // Qwen2-MoE's sigmoid gate on the shared expert: d → 1
};

struct LayerSpec {
  AttentionSpec attention;
  bool is_moe = false;
  MoeSpec moe;    // when is_moe
  MlpSpec dense;  // when not
  NormKind norm = NormKind::kRms;
  std::int64_t norms = 2;  // d-wide norms in the block (pre-attention, pre-MLP)
};

struct ModelDescription {
  std::int64_t d_model = 0;
  std::int64_t vocab_size = 0;
  bool tied_embeddings = false;
  bool lm_head_bias = false;  // Phi-3.5-MoE
  NormKind final_norm = NormKind::kRms;
  std::vector<LayerSpec> layers;
};

struct ModelCounts {
  std::int64_t total = 0;
  std::int64_t active = 0;
  std::int64_t input_embedding = 0;   // V·d (0 when tied: the one matrix is the un-embedding)
  std::int64_t output_embedding = 0;  // V·d (+ V with an lm_head bias)
  std::int64_t attention = 0;         // projections, their biases, sinks
  std::int64_t router = 0;
  std::int64_t experts_total = 0;   // routed experts, all E
  std::int64_t experts_active = 0;  // routed experts, K per token
  std::int64_t shared_experts = 0;  // with Qwen2-MoE's shared-expert gate
  std::int64_t dense_mlp = 0;       // MLPs of dense layers
  std::int64_t norms = 0;           // every norm gain and bias, QK-norm and MLA norms included
  std::int64_t moe_layers = 0;
  std::int64_t dense_layers = 0;

  std::int64_t embedding() const { return input_embedding + output_embedding; }
  std::int64_t non_embedding() const { return total - embedding(); }
  std::int64_t active_non_embedding() const { return active - embedding(); }
  // The input embedding is a table lookup: some authors (gpt-oss, DeepSeek-V3) leave it out of
  // the active count and keep the un-embedding.
  std::int64_t active_without_input_embedding() const { return active - input_embedding; }
};

// Throws moeplan::Error naming the offending value when the description is not well formed.
void validate(const ModelDescription& model);

// Parameters of one layer, all experts / K experts.
std::int64_t layer_params(const LayerSpec& layer, std::int64_t d_model, bool active_only);

ModelCounts count_model(const ModelDescription& model);

// Attention logits and values per token at `context`, forward and backward (law/flops.h), each
// layer attending over min(window, context) tokens.
double model_attention_flops_per_token(const ModelDescription& model, std::int64_t context);

// 6·N_a + the attention term: the per-token training FLOPs `count` reports.
double model_flops_per_token(const ModelDescription& model, std::int64_t context);

// The paper family as a general description (QK-norm gains per head_dim, untied unless the
// architecture says otherwise): count_model(describe_paper_architecture(a)) equals
// count_params(a) field by field.
ModelDescription describe_paper_architecture(const MoeArchitecture& arch);

}  // namespace moeplan::law
