#pragma once
// The generic reader: a config whose model_type is not a family moeplan knows, read by the keys
// most decoder families share, under their usual names: width, depth, heads, vocabulary, grouped
// K/V (num_key_value_heads), head_dim, tied embeddings, routed experts and experts per token,
// expert and shared-expert widths, dense layers (first_k_dense_replace, moe_layer_freq,
// decoder_sparse_step, mlp_only_layers) and attention_bias/mlp_bias. Everything else a family may
// add (QK-norms, LayerNorm biases, shared-expert gates, router biases, attention sinks, MLA) is
// not seen; the caller says so in a warning.
#include "planner/hf_config.h"
#include "planner/hf_config_keys.h"

namespace moeplan::planner {

// Fills out.model, out.context and out.notes from `k` (its text_config when the top level has no
// width: a multimodal wrapper, whose other towers are excluded with a note).
void read_generic_config(const hf_detail::Keys& k, HfModel& out);

// The one-line warning naming the fallback, for a config of model_type `type`.
std::string generic_reader_warning(const std::string& type);

}  // namespace moeplan::planner
