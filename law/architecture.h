#pragma once
// The paper's MoE family (App. C) and its exact parameter accounting. The trainer (verify/)
// builds exactly this model; `count` handles richer, real-world configs (law/model_accounting.h).
//
// Per layer: attention 4·d² (fused QKV 3·d² + output d², n_heads·head_dim = d, no biases),
//            router d·E, experts E·3·d·h with h = expert_hidden (4·d/G by default, GLU/SwiGLU),
//            norms 2·d (pre-attention, pre-MoE RMSNorm gains) + 2·head_dim (QK-norm gains,
//            shared across heads as in the reference model).
// Plus: input embedding V·d, un-embedding V·d (untied), final norm d.
// Active parameters: the same with K experts instead of E.
#include <cstdint>
#include <string>

namespace moeplan::law {

// The most layers a model may have (the deepest published models have ~130): the per-layer
// descriptions, parameter layouts and checkpoints are built layer by layer, so a file claiming
// 10^12 layers is refused before that. Other dimensions need no cap of their own: the parameter
// counts are checked against int64 overflow, and `train` checks the memory before allocating.
inline constexpr std::int64_t kMaxLayers = 1 << 16;

struct MoeArchitecture {
  std::int64_t d_model = 0;
  std::int64_t n_layers = 0;
  std::int64_t n_heads = 0;
  std::int64_t experts = 1;         // E_total per MoE layer
  std::int64_t active_experts = 1;  // K (top-k)
  std::int64_t granularity = 1;     // G
  std::int64_t expert_hidden = 0;   // GLU hidden width of one expert; 4·d/G in the paper family
  std::int64_t vocab_size = 50432;
  std::int64_t context = 2048;
  bool tied_embeddings = false;  // the paper's family is untied

  std::int64_t head_dim() const { return n_heads > 0 ? d_model / n_heads : 0; }
  // S = (E - K) / E  (Eq. 7)
  double sparsity() const {
    return static_cast<double>(experts - active_experts) / static_cast<double>(experts);
  }
};

// 4·d/G, the paper's expert width (App. C); throws when it is not a whole number.
std::int64_t paper_expert_hidden(std::int64_t d_model, std::int64_t granularity);

// A paper-family architecture with expert_hidden = 4·d/G.
MoeArchitecture make_paper_architecture(std::int64_t d_model, std::int64_t n_layers,
                                        std::int64_t n_heads, std::int64_t experts,
                                        std::int64_t active_experts, std::int64_t granularity,
                                        std::int64_t vocab_size, std::int64_t context);

struct ParamCounts {
  std::int64_t total = 0;             // N
  std::int64_t active = 0;            // N_a
  std::int64_t embedding = 0;         // input + output embedding (V·d each when untied)
  std::int64_t attention = 0;         // all layers
  std::int64_t router = 0;            // all layers
  std::int64_t experts_total = 0;     // all layers, all E experts
  std::int64_t experts_active = 0;    // all layers, K experts
  std::int64_t norms = 0;             // all RMSNorm gains
  std::int64_t non_embedding() const { return total - embedding; }
};

// Throws moeplan::Error with the offending value when the architecture is not well formed.
void validate(const MoeArchitecture& arch);

// Exact counts per the accounting above. Embeddings count as active (every token uses them).
ParamCounts count_params(const MoeArchitecture& arch);

std::string describe(const MoeArchitecture& arch);  // "d1024 L12 H16 E8 K2 G1 h4096 V50432 T2048"

}  // namespace moeplan::law
