#pragma once
// Every FLOP count in moeplan comes from this file.
//   6·N_a per token: how the law was fitted (paper §5, footnote 3); the default.
//   Eq. 9 (App. C): C·L·d²·(4 + 2·n_ctx/d + 12·E_active/G + n_vocab/(d·L)), C = 6, written
//     here with the expert width h explicitly (12·E_active/G·d² = 3·E_active·d·h·... with
//     h = 4d/G), optionally with the router term R·d·E_total per layer (R = 14).
#include <string>

#include "law/architecture.h"

namespace moeplan::law {

inline constexpr double kFlopsPerParamFwdBwd = 6.0;  // Kaplan et al. 2020: 2 forward + 4 backward
inline constexpr double kRouterFlopsPerParam = 14.0;  // R of App. C (Ludziejewski et al. 2024)

enum class FlopsMethod {
  kSixNaD,         // 6·N_a per token
  kEq9,            // App. C Eq. 9 (simplified: no router term)
  kEq9WithRouter,  // Eq. 9 plus R·d·E_total per layer
};

std::string flops_method_name(FlopsMethod method);  // "6NaD", "eq9", "eq9+router"
FlopsMethod parse_flops_method(const std::string& name);  // throws moeplan::Error

// 6·N_a
double six_na_flops_per_token(double active_params);

// Attention logits + values, forward and backward: 6·n_ctx·(qk_width + v_width) per layer, where
// qk_width = n_heads·qk_head_dim and v_width = n_heads·v_head_dim (both d_model in App. C, which
// gives its 2·C·n_ctx·d per layer). Full, not causal, attention, as the paper counts it.
double attention_flops_per_token(double n_layers, double context, double qk_width, double v_width);

// 6·N_a plus the attention term: what the trainer counts per token (verify/, cli count).
double six_na_plus_attention_flops_per_token(double active_params, double n_layers,
                                             double context, double qk_width, double v_width);

// Eq. 9 per token for a paper-family architecture.
double eq9_flops_per_token(const MoeArchitecture& arch, bool include_router);

// Per-token training FLOPs of `arch` by `method` (6·N_a uses the exact active count).
double flops_per_token(const MoeArchitecture& arch, FlopsMethod method);
// The same with `counts` = count_params(arch) already at hand (no recount).
double flops_per_token(const MoeArchitecture& arch, const ParamCounts& counts, FlopsMethod method);

// C = flops_per_token · D.
inline double training_flops(double flops_per_token_value, double tokens) {
  return flops_per_token_value * tokens;
}

// Model FLOPs utilisation: achieved FLOP/s over the device's peak.
inline double mfu(double tokens_per_second, double flops_per_token_value, double peak_flops) {
  return tokens_per_second * flops_per_token_value / peak_flops;
}

}  // namespace moeplan::law
