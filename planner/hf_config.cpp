#include "planner/hf_config.h"

#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "planner/hf_config_generic.h"
#include "planner/hf_config_keys.h"
#include "util/error.h"
#include "util/checked_count.h"
#include "util/json_text.h"
#include "util/text.h"

namespace moeplan::planner {

namespace {

using hf_detail::Basics;
using hf_detail::context_of;
using hf_detail::gqa;
using hf_detail::Keys;
using hf_detail::read_basics;
using hf_detail::skeleton;
using hf_detail::tied_or;
using law::AttentionSpec;
using law::LayerSpec;
using law::MlpSpec;
using law::NormKind;
using nlohmann::json;

// Qwen's windowing: sliding attention only when use_sliding_window, and then only on layers at
// or past max_window_layers.
void qwen_windows(const Keys& k, law::ModelDescription& m) {
  if (!k.flag_or("use_sliding_window", false)) return;
  const std::int64_t window = k.count("sliding_window");
  const std::int64_t first = k.non_negative_or("max_window_layers", 0);
  for (std::size_t i = 0; i < m.layers.size(); ++i)
    if (static_cast<std::int64_t>(i) >= first) m.layers[i].attention.window = window;
}

// Mistral/Mixtral: one sliding window for every layer when sliding_window is a number.
void mistral_windows(const Keys& k, law::ModelDescription& m) {
  if (!k.has("sliding_window")) return;
  const std::int64_t window = k.count("sliding_window");
  for (LayerSpec& layer : m.layers) layer.attention.window = window;
}

// Qwen2/3-MoE: layer i is sparse unless listed in mlp_only_layers or (i+1) % step != 0.
std::vector<bool> qwen_sparse_layers(const Keys& k, std::int64_t layers, std::int64_t experts) {
  const std::int64_t step = k.count_or("decoder_sparse_step", 1, "every layer may be MoE");
  std::vector<bool> sparse(static_cast<std::size_t>(layers), false);
  for (std::int64_t i = 0; i < layers; ++i) sparse[i] = experts > 0 && (i + 1) % step == 0;
  if (k.has("mlp_only_layers"))
    for (std::int64_t i : k.whole_list("mlp_only_layers")) {
      if (i >= layers)
        k.fail_about("mlp_only_layers", "names layer " + std::to_string(i) + " of a " +
                                            std::to_string(layers) + "-layer model");
      sparse[i] = false;
    }
  return sparse;
}

// ---- families ----------------------------------------------------------------------------------

using FamilyReader = std::function<void(const Keys&, HfModel&)>;

// Llama, Mistral, Qwen2, Qwen3: dense decoders with a SwiGLU MLP and RMSNorm.
void read_dense(const Keys& k, HfModel& out, const std::string& type) {
  const Basics b = read_basics(k);
  bool qkv_bias = false, out_bias = false, mlp_bias = false;
  if (type == "llama") {
    qkv_bias = out_bias = k.flag_or("attention_bias", false, "Llama's default");
    mlp_bias = k.flag_or("mlp_bias", false, "Llama's default");
  } else if (type == "qwen2") {
    qkv_bias = true;  // Qwen2Attention: q, k, v with bias, o without
  } else if (type == "qwen3") {
    qkv_bias = out_bias = k.flag_or("attention_bias", false, "Qwen3's default");
  }
  out.model = skeleton(b, tied_or(k, false));
  LayerSpec layer;
  layer.attention = gqa(b, qkv_bias, out_bias);
  if (type == "qwen3") layer.attention.q_norm_width = layer.attention.k_norm_width = b.head_dim;
  layer.dense = MlpSpec{k.count("intermediate_size"), true, mlp_bias};
  out.model.layers.assign(b.layers, layer);
  if (type == "mistral") mistral_windows(k, out.model);
  if (type == "qwen2" || type == "qwen3") qwen_windows(k, out.model);
  out.context = context_of(k, "max_position_embeddings");
}

void read_mixtral(const Keys& k, HfModel& out) {
  const Basics b = read_basics(k);
  out.model = skeleton(b, tied_or(k, false));
  LayerSpec layer;
  layer.attention = gqa(b, false, false);
  layer.is_moe = true;
  layer.moe.experts = k.count("num_local_experts");
  layer.moe.active_experts = k.count("num_experts_per_tok");
  layer.moe.expert = MlpSpec{k.count("intermediate_size"), true, false};
  out.model.layers.assign(b.layers, layer);
  mistral_windows(k, out.model);
  out.context = context_of(k, "max_position_embeddings");
}

void read_olmoe(const Keys& k, HfModel& out) {
  const Basics b = read_basics(k);
  const bool bias = k.flag_or("attention_bias", false, "OLMoE's default");
  out.model = skeleton(b, tied_or(k, false));
  LayerSpec layer;
  layer.attention = gqa(b, bias, bias);
  // OLMoE normalises the whole q and k projections: widths H·head_dim and H_kv·head_dim.
  layer.attention.q_norm_width = b.d;
  layer.attention.k_norm_width = (b.d / b.heads) * b.kv_heads;
  layer.is_moe = true;
  layer.moe.experts = k.count("num_experts");
  layer.moe.active_experts = k.count("num_experts_per_tok");
  layer.moe.expert = MlpSpec{k.count("intermediate_size"), true, false};
  out.model.layers.assign(b.layers, layer);
  out.context = context_of(k, "max_position_embeddings");
}

void read_qwen_moe(const Keys& k, HfModel& out, bool qwen3) {
  const Basics b = read_basics(k);
  out.model = skeleton(b, tied_or(k, false));
  AttentionSpec attention;
  if (qwen3) {
    const bool bias = k.flag_or("attention_bias", false, "Qwen3-MoE's default");
    attention = gqa(b, bias, bias);
    attention.q_norm_width = attention.k_norm_width = b.head_dim;  // per-head RMSNorm
  } else {
    attention = gqa(b, k.flag_or("qkv_bias", true), false);  // q, k, v biased; o not
  }
  const std::int64_t experts = k.count("num_experts");
  const std::vector<bool> sparse = qwen_sparse_layers(k, b.layers, experts);
  LayerSpec moe_layer;
  moe_layer.attention = attention;
  moe_layer.is_moe = true;
  moe_layer.moe.experts = experts;
  moe_layer.moe.active_experts = k.count("num_experts_per_tok");
  moe_layer.moe.expert = MlpSpec{k.count("moe_intermediate_size"), true, false};
  if (!qwen3) {
    const std::int64_t shared = k.non_negative("shared_expert_intermediate_size");
    moe_layer.moe.shared = MlpSpec{shared, true, false};
    moe_layer.moe.shared_gate = shared > 0;  // sigmoid(Linear(d, 1)) scales the shared expert
  }
  for (bool is_sparse : sparse) {
    if (is_sparse) {
      out.model.layers.push_back(moe_layer);
    } else {
      LayerSpec dense;
      dense.attention = attention;
      dense.dense = MlpSpec{k.count("intermediate_size"), true, false};
      out.model.layers.push_back(dense);
    }
  }
  qwen_windows(k, out.model);
  out.context = context_of(k, "max_position_embeddings");
}

// DeepSeek's layers (DeepSeekMoE, V2, V3): MoE from layer first_k_dense_replace on, every
// moe_layer_freq-th layer (transformers' V2/V3 port keeps only the first condition; the released
// configs use freq 1), n_shared_experts shared experts of the routed experts' width; no experts
// at all without n_routed_experts (DeepseekConfig's default, None).
void deepseek_layers(const Keys& k, std::int64_t layers, const AttentionSpec& attention,
                     bool router_bias, law::ModelDescription& m) {
  const bool has_experts = k.has("n_routed_experts");
  const std::int64_t first_dense =
      k.non_negative_or("first_k_dense_replace", 0, "DeepSeek's default");
  const std::int64_t freq = k.count_or("moe_layer_freq", 1, "DeepSeek's default");
  LayerSpec moe_layer;
  moe_layer.attention = attention;
  moe_layer.is_moe = true;
  if (has_experts) {
    moe_layer.moe.experts = k.count("n_routed_experts");
    moe_layer.moe.active_experts = k.count("num_experts_per_tok");
    const std::int64_t width = k.count("moe_intermediate_size");
    moe_layer.moe.expert = MlpSpec{width, true, false};
    const std::int64_t shared =
        k.non_negative_or("n_shared_experts", 0, "no shared experts, DeepSeek's default");
    moe_layer.moe.shared = MlpSpec{shared * width, true, false};
    moe_layer.moe.router_bias = router_bias;
  }
  for (std::int64_t i = 0; i < layers; ++i) {
    if (has_experts && i >= first_dense && i % freq == 0) {
      m.layers.push_back(moe_layer);
    } else {
      LayerSpec dense;
      dense.attention = attention;
      dense.dense = MlpSpec{k.count("intermediate_size"), true, false};
      m.layers.push_back(dense);
    }
  }
}

// DeepSeekMoE (model_type "deepseek", DeepSeek's own modeling_deepseek.py for
// deepseek-moe-16b): Llama's attention (q, k, v, o with attention_bias; grouped-query K/V) and
// RMSNorms with DeepSeek's MoE layers; no MLA, no multi-token prediction.
void read_deepseek_moe(const Keys& k, HfModel& out) {
  const Basics b = read_basics(k);
  out.model = skeleton(b, tied_or(k, false));
  const bool bias = k.flag_or("attention_bias", false, "DeepSeek's default");
  deepseek_layers(k, b.layers, gqa(b, bias, bias), false, out.model);
  out.context = context_of(k, "max_position_embeddings");
}

void read_deepseek(const Keys& k, HfModel& out, bool v3) {
  const Basics b = read_basics(k);
  out.model = skeleton(b, tied_or(k, false));
  AttentionSpec attention;
  attention.latent = true;
  attention.n_heads = b.heads;
  attention.q_lora_rank = k.required_nullable("q_lora_rank");
  attention.kv_lora_rank = k.count("kv_lora_rank");
  attention.qk_nope_head_dim = k.non_negative("qk_nope_head_dim");
  attention.qk_rope_head_dim = k.non_negative("qk_rope_head_dim");
  attention.v_head_dim = k.count("v_head_dim");
  attention.latent_bias = k.flag_or("attention_bias", false, "DeepSeek's default");

  // e_score_correction_bias: one learned-by-update bias per routed expert, kept in the checkpoint
  // (always in transformers' DeepSeek-V3; with topk_method noaux_tc in DeepSeek's).
  const bool router_bias = v3 || k.text_or("topk_method", "") == "noaux_tc";
  deepseek_layers(k, b.layers, attention, router_bias, out.model);
  out.context = context_of(k, "max_position_embeddings");

  out.mtp_layers = k.non_negative_or("num_nextn_predict_layers", 0);
  if (out.mtp_layers > 0) {
    // Each MTP module: one decoder layer like the last, enorm and hnorm (d each), eh_proj
    // (2d → d), its head norm (d); embedding and output head shared with the main model, though
    // the checkpoint stores copies of them (hence DeepSeek-V3's 685B on disk vs 671B).
    const CheckedCount d = b.d;  // checked: util/checked_count.h
    const CheckedCount module =
        CheckedCount(law::layer_params(out.model.layers.back(), b.d, false)) + d * d * 2 + d * 3;
    out.mtp_params = (module * out.mtp_layers).value();
    out.notes.push_back("num_nextn_predict_layers = " + std::to_string(out.mtp_layers) +
                        ": multi-token-prediction modules excluded (" +
                        std::to_string(out.mtp_params) +
                        " params, plus copies of the embedding and head in the checkpoint)");
  }
}

void read_dbrx(const Keys& k, HfModel& out) {
  Basics b;
  b.d = k.count("d_model");
  b.layers = layer_count(k, "n_layers");
  b.heads = k.count("n_heads");
  b.vocab = k.count("vocab_size");
  if (b.d % b.heads != 0) k.fail_about("n_heads", "must divide d_model");
  b.head_dim = b.d / b.heads;
  const Keys attn = k.nested("attn_config");
  const Keys ffn = k.nested("ffn_config");
  b.kv_heads = attn.count("kv_n_heads");
  if (b.heads % b.kv_heads != 0) attn.fail_about("kv_n_heads", "must divide n_heads");
  // The top-level flag only: DBRX's nested sub-configs carry an unused tie_word_embeddings.
  out.model = skeleton(b, tied_or(k, false));
  out.model.final_norm = NormKind::kLayerNormNoBias;
  LayerSpec layer;
  layer.attention = gqa(b, false, false);  // fused Wqkv and out_proj, no biases; clip_qkv has
                                           // no parameters
  layer.norm = NormKind::kLayerNormNoBias;
  layer.is_moe = true;
  layer.moe.experts = ffn.count("moe_num_experts");
  layer.moe.active_experts = ffn.count("moe_top_k");
  layer.moe.expert = MlpSpec{ffn.count("ffn_hidden_size"), true, false};  // w1, v1, w2
  out.model.layers.assign(b.layers, layer);
  out.context = context_of(k, "max_seq_len");
}

void read_gpt_oss(const Keys& k, HfModel& out) {
  const Basics b = read_basics(k, /*head_dim_required=*/true);
  const bool bias = k.flag_or("attention_bias", true, "gpt-oss's default");
  out.model = skeleton(b, tied_or(k, false));
  LayerSpec layer;
  layer.attention = gqa(b, bias, bias);
  layer.attention.sinks = b.heads;  // one learned sink logit per head
  layer.is_moe = true;
  const char* experts_key = k.has("num_local_experts") ? "num_local_experts" : "num_experts";
  layer.moe.experts = k.count(experts_key);
  layer.moe.active_experts =
      k.has("num_experts_per_tok") ? k.count("num_experts_per_tok") : k.count("experts_per_token");
  layer.moe.expert = MlpSpec{k.count("intermediate_size"), true, true};  // gate_up, down biased
  layer.moe.router_bias = true;
  out.model.layers.assign(b.layers, layer);
  // Sliding-window layers per layer_types; transformers' default alternates, sliding first.
  const std::int64_t window = k.count("sliding_window");
  std::vector<std::string> types;
  if (k.has("layer_types")) {
    types = k.text_list("layer_types");
    if (static_cast<std::int64_t>(types.size()) != b.layers)
      k.fail_about("layer_types", "has " + std::to_string(types.size()) + " entries for " +
                                      std::to_string(b.layers) + " layers");
  } else {
    for (std::int64_t i = 0; i < b.layers; ++i)
      types.push_back((i + 1) % 2 ? "sliding_attention" : "full_attention");
    k.note("layer_types absent: sliding and full attention alternate (gpt-oss's default)");
  }
  for (std::size_t i = 0; i < types.size(); ++i)
    if (types[i] == "sliding_attention") out.model.layers[i].attention.window = window;
  out.context = context_of(k, "max_position_embeddings");
}

void read_granite_moe(const Keys& k, HfModel& out, bool shared) {
  const Basics b = read_basics(k);
  const bool bias = k.flag_or("attention_bias", false, "Granite-MoE's default");
  out.model = skeleton(b, tied_or(k, false));
  LayerSpec layer;
  layer.attention = gqa(b, bias, bias);
  layer.is_moe = true;
  layer.moe.experts = k.count("num_local_experts");
  layer.moe.active_experts = k.count("num_experts_per_tok");
  // input_linear: E × (2·I × d), output_linear: E × (d × I), no biases.
  layer.moe.expert = MlpSpec{k.count("intermediate_size"), true, false};
  if (shared)
    layer.moe.shared = MlpSpec{k.non_negative_or("shared_intermediate_size", 0,
                                                 "no shared expert, GraniteMoeShared's default"),
                               true, false};
  out.model.layers.assign(b.layers, layer);
  out.context = context_of(k, "max_position_embeddings");
}

void read_phimoe(const Keys& k, HfModel& out) {
  const Basics b = read_basics(k);
  const bool bias = k.flag_or("attention_bias", false, "Phi-MoE's default");
  out.model = skeleton(b, tied_or(k, false));
  out.model.lm_head_bias = k.flag_or("lm_head_bias", false, "Phi-MoE's default");
  out.model.final_norm = NormKind::kLayerNorm;
  LayerSpec layer;
  layer.attention = gqa(b, bias, bias);
  layer.norm = NormKind::kLayerNorm;  // input and post-attention LayerNorms with bias
  layer.is_moe = true;
  layer.moe.experts = k.count("num_local_experts");
  layer.moe.active_experts = k.count("num_experts_per_tok");
  layer.moe.expert = MlpSpec{k.count("intermediate_size"), true, false};
  out.model.layers.assign(b.layers, layer);
  out.context = context_of(k, "max_position_embeddings");
}

// Llama 4's text model: every interleave_moe_layer_step-th layer (or the listed moe_layers) is
// MoE with one shared expert of width intermediate_size; the others are dense of width
// intermediate_size_mlp. The QK-norm is a parameter-free L2 norm. RoPE layers use chunked
// attention (attention_chunk_size); NoPE layers attend to the whole context.
void read_llama4_text(const Keys& k, HfModel& out, const Keys* outer) {
  const Basics b = read_basics(k);
  const bool bias = k.flag_or("attention_bias", false, "Llama 4's default");
  bool tied = false;
  if (k.has("tie_word_embeddings"))
    tied = k.flag_or("tie_word_embeddings", false);
  else if (outer != nullptr)
    tied = tied_or(*outer, false);
  else
    tied = tied_or(k, false);
  out.model = skeleton(b, tied);
  std::vector<bool> moe(static_cast<std::size_t>(b.layers), false);
  if (k.has("moe_layers")) {
    for (std::int64_t i : k.whole_list("moe_layers")) {
      if (i >= b.layers)
        k.fail_about("moe_layers", "names layer " + std::to_string(i) + " of a " +
                                       std::to_string(b.layers) + "-layer model");
      moe[i] = true;
    }
  } else {
    const std::int64_t step =
        k.count_or("interleave_moe_layer_step", 1, "every layer MoE, Llama 4's default");
    for (std::int64_t i = step - 1; i < b.layers; i += step) moe[i] = true;
  }
  std::vector<bool> rope(static_cast<std::size_t>(b.layers), true);
  if (k.has("no_rope_layers")) {
    const std::vector<std::int64_t> flags = k.whole_list("no_rope_layers");
    if (static_cast<std::int64_t>(flags.size()) != b.layers)
      k.fail_about("no_rope_layers", "has " + std::to_string(flags.size()) + " entries for " +
                                         std::to_string(b.layers) + " layers");
    for (std::size_t i = 0; i < flags.size(); ++i) rope[i] = flags[i] != 0;  // 1 = uses RoPE
  } else {
    const std::int64_t interval = k.count_or("no_rope_layer_interval", 4);
    for (std::int64_t i = 0; i < b.layers; ++i) rope[i] = (i + 1) % interval != 0;
  }
  const std::int64_t chunk = k.non_negative_or("attention_chunk_size", 0);
  bool any_dense = false;
  for (bool m : moe) any_dense = any_dense || !m;
  const std::int64_t expert_width = k.count("intermediate_size");
  const std::int64_t dense_width = any_dense ? k.count("intermediate_size_mlp") : 0;
  for (std::int64_t i = 0; i < b.layers; ++i) {
    LayerSpec layer;
    layer.attention = gqa(b, bias, bias);
    if (rope[i]) layer.attention.window = chunk;
    if (moe[i]) {
      layer.is_moe = true;
      layer.moe.experts = k.count("num_local_experts");
      layer.moe.active_experts = k.count("num_experts_per_tok");
      layer.moe.expert = MlpSpec{expert_width, true, false};
      layer.moe.shared = MlpSpec{expert_width, true, false};
    } else {
      layer.dense = MlpSpec{dense_width, true, false};
    }
    out.model.layers.push_back(layer);
  }
  out.context = context_of(k, "max_position_embeddings");
}

struct Family {
  std::string name;
  std::function<void(const Keys&, HfModel&)> read;
};

const std::map<std::string, Family>& families() {
  static const std::map<std::string, Family> table = {
      {"llama", {"Llama (dense)", [](const Keys& k, HfModel& m) { read_dense(k, m, "llama"); }}},
      {"mistral",
       {"Mistral (dense)", [](const Keys& k, HfModel& m) { read_dense(k, m, "mistral"); }}},
      {"qwen2", {"Qwen2 (dense)", [](const Keys& k, HfModel& m) { read_dense(k, m, "qwen2"); }}},
      {"qwen3", {"Qwen3 (dense)", [](const Keys& k, HfModel& m) { read_dense(k, m, "qwen3"); }}},
      {"mixtral", {"Mixtral", read_mixtral}},
      {"olmoe", {"OLMoE", read_olmoe}},
      {"qwen2_moe", {"Qwen2-MoE", [](const Keys& k, HfModel& m) { read_qwen_moe(k, m, false); }}},
      {"qwen3_moe", {"Qwen3-MoE", [](const Keys& k, HfModel& m) { read_qwen_moe(k, m, true); }}},
      {"deepseek", {"DeepSeekMoE", read_deepseek_moe}},
      {"deepseek_v2",
       {"DeepSeek-V2", [](const Keys& k, HfModel& m) { read_deepseek(k, m, false); }}},
      {"deepseek_v3",
       {"DeepSeek-V3", [](const Keys& k, HfModel& m) { read_deepseek(k, m, true); }}},
      {"dbrx", {"DBRX", read_dbrx}},
      {"gpt_oss", {"gpt-oss", read_gpt_oss}},
      {"granitemoe",
       {"Granite-MoE", [](const Keys& k, HfModel& m) { read_granite_moe(k, m, false); }}},
      {"granitemoeshared",
       {"Granite-MoE (shared experts)",
        [](const Keys& k, HfModel& m) { read_granite_moe(k, m, true); }}},
      {"phimoe", {"Phi-MoE", read_phimoe}},
      {"llama4_text",
       {"Llama 4 (text)", [](const Keys& k, HfModel& m) { read_llama4_text(k, m, nullptr); }}},
      {"llama4",
       {"Llama 4 (text model; vision tower excluded)",
        [](const Keys& k, HfModel& m) {
          const Keys text = k.nested("text_config");
          read_llama4_text(text, m, &k);
          if (k.has("vision_config"))
            k.note("vision_config: the vision encoder and projector are excluded");
        }}},
  };
  return table;
}

}  // namespace

const std::vector<std::string>& supported_model_types() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, family] : families()) out.push_back(name);
    return out;
  }();
  return names;
}

namespace {

std::string supported_list() {
  std::string supported;
  for (const std::string& name : supported_model_types())
    supported += (supported.empty() ? "" : ", ") + name;
  return supported;
}

// Reads `root` with `read` and checks the result; `where` names the file and the reader.
HfModel read_with(const json& root, const std::string& where, const std::string& type,
                  const std::function<void(const Keys&, HfModel&)>& read) {
  HfModel out;
  out.model_type = type;
  const Keys keys(root, where, "", &out.notes);
  read(keys, out);
  try {
    law::count_model(out.model);  // validates it, and refuses counts past int64 (10^12 experts)
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
  return out;
}

// Whether `read` reads `root` without an error.
bool reads_as(const json& root, const std::string& type,
              const std::function<void(const Keys&, HfModel&)>& read) {
  try {
    read_with(root, type, type, read);
    return true;
  } catch (const Error&) {
    return false;
  }
}

// A model_type not in the table: the generic reader, or "did you mean" for a near miss (see
// hf_config.h for the rule).
HfModel read_unknown(const json& root, const std::string& source, const std::string& type) {
  const std::string close = closest_match(type, supported_model_types());
  const auto generic = [](const Keys& k, HfModel& m) { read_generic_config(k, m); };
  // The generic reader's errors follow the unknown-model_type sentence below.
  const std::string where = "the generic reader cannot read it";
  const auto did_you_mean = [&]() {
    fail(source, ": unknown model_type '", type, "'; did you mean '", close,
         "'? (supported: ", supported_list(), ")");
  };
  if (!close.empty() && reads_as(root, close, families().at(close).read)) did_you_mean();
  HfModel out;
  try {
    out = read_with(root, where, type, generic);
  } catch (const Error& e) {
    if (!close.empty()) did_you_mean();
    fail(source, ": model_type '", type,
         "' is not a family moeplan knows (supported: ", supported_list(), "); ", e.what());
  }
  out.family = "generic reader";
  out.warnings.push_back(generic_reader_warning(type));
  if (!close.empty()) out.warnings.back() += "; not read as '" + close + "', whose keys it lacks";
  return out;
}

}  // namespace

HfModel read_hf_config(const std::string& json_text, const std::string& source) {
  const json root = parse_json_text(json_text, source);
  if (!root.is_object()) fail(source, ": a config.json must be a JSON object");
  if (!root.contains("model_type") || !root.at("model_type").is_string())
    fail(source,
         ": no 'model_type' string, so the model family is unknown (supported: ", supported_list(),
         ")");
  const std::string type = root.at("model_type").get<std::string>();
  const auto found = families().find(type);
  if (found == families().end()) return read_unknown(root, source, type);
  HfModel out = read_with(root, source + " (" + type + ")", type, found->second.read);
  out.family = found->second.name;
  return out;
}

ActiveConvention published_active_convention(const std::string& model_type) {
  // Checked against the model cards: gpt-oss-120b 5.13B, DeepSeek-V3 37B, DeepSeek-V2 21B and
  // DBRX 36B match active parameters without the input embedding; Granite-3.0-3B-A800M's 800M
  // is non-embedding; the other families state counts with every embedding (DeepSeekMoE 16B's
  // 2.8B among them: without the input embedding it would be 2.6B). So does the generic reader.
  if (model_type == "gpt_oss" || model_type == "deepseek_v2" || model_type == "deepseek_v3" ||
      model_type == "dbrx")
    return ActiveConvention::kWithoutInputEmbedding;
  if (model_type == "granitemoe" || model_type == "granitemoeshared")
    return ActiveConvention::kNonEmbedding;
  return ActiveConvention::kAllEmbeddings;
}

std::string convention_name(ActiveConvention convention) {
  switch (convention) {
    case ActiveConvention::kAllEmbeddings: return "all-embeddings";
    case ActiveConvention::kWithoutInputEmbedding: return "without-input-embedding";
    case ActiveConvention::kNonEmbedding: return "non-embedding";
  }
  return "?";
}

}  // namespace moeplan::planner
