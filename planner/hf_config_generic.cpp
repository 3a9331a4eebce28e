#include "planner/hf_config_generic.h"

#include <vector>

namespace moeplan::planner {

namespace {

using hf_detail::Basics;
using hf_detail::Keys;
using law::LayerSpec;
using law::MlpSpec;
using Names = std::vector<std::string>;

// Each quantity under the names families give it (transformers' configs, DBRX, GPT-2).
const Names kWidth = {"hidden_size", "d_model", "n_embd"};
const Names kLayers = {"num_hidden_layers", "num_layers", "n_layers", "n_layer"};
const Names kHeads = {"num_attention_heads", "num_heads", "n_heads", "n_head"};
const Names kKvHeads = {"num_key_value_heads", "num_kv_heads", "n_kv_heads"};
const Names kExperts = {"num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts",
                        "num_routed_experts"};
const Names kExpertsPerToken = {"num_experts_per_tok", "num_experts_per_token", "experts_per_token",
                                "moe_top_k", "moe_k"};
const Names kExpertWidth = {"moe_intermediate_size", "expert_intermediate_size"};
const Names kSharedWidth = {"shared_expert_intermediate_size", "shared_intermediate_size"};
const Names kSharedExperts = {"n_shared_experts", "num_shared_experts", "moe_num_shared_experts"};
const Names kContext = {"max_position_embeddings", "max_seq_len", "n_positions", "seq_length"};

// The first of `names` the config gives (not null), or "".
std::string first_present(const Keys& k, const Names& names) {
  for (const std::string& name : names)
    if (k.has(name)) return name;
  return "";
}

// A required positive whole number under any of its names; the error names them all.
std::int64_t required_count(const Keys& k, const Names& names) {
  const std::string name = first_present(k, names);
  if (!name.empty()) return k.count(name);
  std::string others;
  for (std::size_t i = 1; i < names.size(); ++i) others += (i > 1 ? ", " : "") + names[i];
  k.fail_about(names[0], "is missing" + (others.empty() ? "" : " (and so are " + others + ")") +
                             ", which the generic reader needs");
}

Basics generic_basics(const Keys& k) {
  Basics b;
  b.d = required_count(k, kWidth);
  b.layers = required_count(k, kLayers);
  layer_count(k, first_present(k, kLayers));  // at most law::kMaxLayers
  b.heads = required_count(k, kHeads);
  b.vocab = k.count("vocab_size");
  const std::string kv = first_present(k, kKvHeads);
  b.kv_heads = kv.empty() ? b.heads : k.count(kv);
  if (kv.empty())
    k.note("num_key_value_heads absent: " + std::to_string(b.heads) +
           " (one K/V head per query head)");
  if (b.heads % b.kv_heads != 0)
    k.fail_about(kv, "must divide the attention heads (" + std::to_string(b.heads) + "), got " +
                         std::to_string(b.kv_heads));
  if (k.has("head_dim")) {
    b.head_dim = k.count("head_dim");
  } else {
    if (b.d % b.heads != 0)
      k.fail_about(first_present(k, kHeads), "must divide the width when head_dim is absent");
    b.head_dim = b.d / b.heads;
  }
  return b;
}

// Which layers are MoE: from first_k_dense_replace on, every moe_layer_freq-th (DeepSeek's rule)
// and every decoder_sparse_step-th counting from 1 (Qwen's), except those in mlp_only_layers.
std::vector<bool> generic_moe_layers(const Keys& k, std::int64_t layers) {
  const std::int64_t first = k.non_negative_or("first_k_dense_replace", 0);
  const std::int64_t freq = k.count_or("moe_layer_freq", 1);
  const std::int64_t step = k.count_or("decoder_sparse_step", 1);
  std::vector<bool> moe(static_cast<std::size_t>(layers));
  for (std::int64_t i = 0; i < layers; ++i)
    moe[i] = i >= first && i % freq == 0 && (i + 1) % step == 0;
  if (k.has("mlp_only_layers"))
    for (std::int64_t i : k.whole_list("mlp_only_layers")) {
      if (i >= layers)
        k.fail_about("mlp_only_layers", "names layer " + std::to_string(i) + " of a " +
                                            std::to_string(layers) + "-layer model");
      moe[i] = false;
    }
  return moe;
}

// The MoE block: E routed experts, K per token, their width (moe_intermediate_size, else
// intermediate_size as in Mixtral), shared experts by width or by count of routed-expert widths.
law::MoeSpec generic_moe(const Keys& k, std::int64_t experts) {
  law::MoeSpec moe;
  moe.experts = experts;
  moe.active_experts = required_count(k, kExpertsPerToken);
  const std::string width_key = first_present(k, kExpertWidth);
  if (width_key.empty())
    k.note("moe_intermediate_size absent: experts of width intermediate_size (as in Mixtral)");
  const std::int64_t width = k.count(width_key.empty() ? "intermediate_size" : width_key);
  moe.expert = MlpSpec{width, true, false};
  const std::string shared_width = first_present(k, kSharedWidth);
  const std::string shared_count = first_present(k, kSharedExperts);
  if (!shared_width.empty())
    moe.shared = MlpSpec{k.non_negative(shared_width), true, false};
  else if (!shared_count.empty())
    moe.shared = MlpSpec{k.non_negative(shared_count) * width, true, false};
  return moe;
}

void read_text_model(const Keys& k, HfModel& out, bool tied_default) {
  const Basics b = generic_basics(k);
  out.model = hf_detail::skeleton(
      b, k.flag_or("tie_word_embeddings", tied_default,
                   "PretrainedConfig's default; save_pretrained leaves it out when true"));
  const bool attention_bias = k.flag_or("attention_bias", false);
  const bool mlp_bias = k.flag_or("mlp_bias", false);
  const std::string experts_key = first_present(k, kExperts);
  const std::int64_t experts = experts_key.empty() ? 0 : k.non_negative(experts_key);
  const std::vector<bool> moe =
      experts > 0 ? generic_moe_layers(k, b.layers) : std::vector<bool>(b.layers, false);
  const law::MoeSpec moe_block = experts > 0 ? generic_moe(k, experts) : law::MoeSpec{};
  for (bool is_moe : moe) {
    LayerSpec layer;
    layer.attention = hf_detail::gqa(b, attention_bias, attention_bias);
    layer.is_moe = is_moe;
    if (is_moe)
      layer.moe = moe_block;
    else
      layer.dense = MlpSpec{k.count("intermediate_size"), true, mlp_bias};
    out.model.layers.push_back(layer);
  }
  const std::string context = first_present(k, kContext);
  if (!context.empty()) out.context = k.count(context);
}

}  // namespace

void read_generic_config(const Keys& k, HfModel& out) {
  if (first_present(k, kWidth).empty() && k.has_object("text_config")) {
    k.note("text_config: the text model is read; other towers and projectors are excluded");
    const bool outer_tied = k.flag_or("tie_word_embeddings", true);
    read_text_model(k.nested("text_config"), out, outer_tied);
    return;
  }
  read_text_model(k, out, true);
}

std::string generic_reader_warning(const std::string& type) {
  return "model_type '" + type +
         "' is not a family moeplan knows; read by the generic reader of common keys (width, "
         "layers, heads, num_key_value_heads, head_dim, vocab_size, tie_word_embeddings, experts, "
         "experts per token, expert and shared-expert widths, dense layers, attention_bias, "
         "mlp_bias): a family's own parameters (QK-norms, biases the family always has, LayerNorm "
         "biases, shared-expert gates, "
         "router biases, sinks, MLA) are not counted";
}

}  // namespace moeplan::planner
