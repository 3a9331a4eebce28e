#include "planner/export.h"

#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>
#include <vector>

#include "util/error.h"

namespace moeplan::planner {

namespace {

// Shortest decimal text that reads back to the same double ("0.002", "1e-08").
std::string number_text(double value) {
  std::ostringstream s;
  s << std::setprecision(17) << value;
  for (int digits = 1; digits <= 17; ++digits) {
    std::ostringstream t;
    t << std::setprecision(digits) << value;
    if (std::stod(t.str()) == value) return t.str();
  }
  return s.str();
}

}  // namespace

std::string export_hf_config(const law::MoeArchitecture& arch) {
  law::validate(arch);
  nlohmann::ordered_json c;
  c["architectures"] = {"Qwen3MoeForCausalLM"};
  c["model_type"] = "qwen3_moe";
  c["vocab_size"] = arch.vocab_size;
  c["hidden_size"] = arch.d_model;
  c["num_hidden_layers"] = arch.n_layers;
  c["num_attention_heads"] = arch.n_heads;
  c["num_key_value_heads"] = arch.n_heads;
  c["head_dim"] = arch.head_dim();
  // Used only by dense (mlp_only) layers, of which there are none: the dense width 4·d.
  c["intermediate_size"] = 4 * arch.d_model;
  c["moe_intermediate_size"] = arch.expert_hidden;
  c["num_experts"] = arch.experts;
  c["num_experts_per_tok"] = arch.active_experts;
  c["norm_topk_prob"] = false;  // weights are the softmax probabilities, not renormalised
  c["decoder_sparse_step"] = 1;
  c["mlp_only_layers"] = nlohmann::ordered_json::array();
  c["router_aux_loss_coef"] = kExportRouterAuxLossCoef;
  c["output_router_logits"] = true;  // so that the aux loss is applied in training
  c["hidden_act"] = "silu";
  c["attention_bias"] = false;
  c["attention_dropout"] = 0.0;
  c["rms_norm_eps"] = kExportRmsNormEps;
  c["rope_theta"] = kExportRopeTheta;
  c["rope_scaling"] = nullptr;
  c["max_position_embeddings"] = arch.context;
  c["use_sliding_window"] = false;
  c["sliding_window"] = nullptr;
  c["max_window_layers"] = arch.n_layers;
  c["tie_word_embeddings"] = arch.tied_embeddings;
  c["initializer_range"] = 0.02;
  c["use_cache"] = true;
  c["torch_dtype"] = "bfloat16";
  return c.dump(2) + "\n";
}

namespace {

using Args = std::vector<std::pair<std::string, std::string>>;

// Megatron's parallelism and data-parallel sharding flags for a layout.
void add_layout_args(const ExportLayout& layout, Args& args) {
  const law::ParallelDegrees& g = layout.degrees;
  args.emplace_back("--tensor-model-parallel-size", std::to_string(g.tensor));
  args.emplace_back("--pipeline-model-parallel-size", std::to_string(g.pipeline));
  args.emplace_back("--expert-model-parallel-size", std::to_string(g.expert));
  // Megatron-Core's MoE layer refuses to train with TP > 1 without sequence parallelism.
  if (g.tensor > 1) args.emplace_back("--sequence-parallel", "");
  if (layout.zero_stage == 1) args.emplace_back("--use-distributed-optimizer", "");
  if (layout.zero_stage >= 2) {
    // ZeRO-2/3 is Megatron's FSDP path, which needs its own checkpoint format.
    args.emplace_back("--use-megatron-fsdp", "");
    args.emplace_back("--data-parallel-sharding-strategy",
                      layout.zero_stage == 3 ? "optim_grads_params" : "optim_grads");
    args.emplace_back("--ckpt-format", "fsdp_dtensor");
  }
}

}  // namespace

std::string export_megatron_args(const law::MoeArchitecture& arch, const ExportRecipe& recipe,
                                 const std::optional<ExportLayout>& layout) {
  law::validate(arch);
  Args args = {
      {"--num-layers", std::to_string(arch.n_layers)},
      {"--hidden-size", std::to_string(arch.d_model)},
      {"--num-attention-heads", std::to_string(arch.n_heads)},
      {"--kv-channels", std::to_string(arch.head_dim())},
      {"--ffn-hidden-size", std::to_string(arch.expert_hidden)},
      {"--moe-ffn-hidden-size", std::to_string(arch.expert_hidden)},
      {"--num-experts", std::to_string(arch.experts)},
      {"--moe-router-topk", std::to_string(arch.active_experts)},
      // softmax over all experts, then top-k: weights are not renormalised (as trained here)
      {"--moe-router-pre-softmax", ""},
      {"--moe-router-load-balancing-type", "aux_loss"},
      {"--moe-aux-loss-coeff", number_text(kExportRouterAuxLossCoef)},
      {"--moe-z-loss-coeff", number_text(kExportRouterZLossCoef)},
      {"--moe-grouped-gemm", ""},
      {"--moe-token-dispatcher-type", "alltoall"},
      {"--seq-length", std::to_string(arch.context)},
      {"--max-position-embeddings", std::to_string(arch.context)},
      {"--swiglu", ""},
      {"--normalization", "RMSNorm"},
      {"--norm-epsilon", number_text(kExportRmsNormEps)},
      {"--qk-layernorm", ""},
      {"--disable-bias-linear", ""},
      {"--position-embedding-type", "rope"},
      {"--rotary-base", std::to_string(static_cast<long long>(kExportRopeTheta))},
      {"--attention-dropout", "0.0"},
      {"--hidden-dropout", "0.0"},
      {"--init-method-std", "0.02"},
      {"--make-vocab-size-divisible-by", "128"},
      {"--bf16", ""},
  };
  if (!arch.tied_embeddings)
    args.insert(args.begin() + 4, {"--untie-embeddings-and-output-weights", ""});
  auto add_int = [&](const char* flag, const std::optional<std::int64_t>& value) {
    if (value) args.emplace_back(flag, std::to_string(*value));
  };
  auto add_real = [&](const char* flag, const std::optional<double>& value) {
    if (value) args.emplace_back(flag, number_text(*value));
  };
  add_real("--lr", recipe.peak_lr);
  add_real("--min-lr", recipe.min_lr);
  if (recipe.peak_lr) args.emplace_back("--lr-decay-style", "cosine");
  add_int("--lr-warmup-iters", recipe.warmup_steps);
  add_int("--train-iters", recipe.train_steps);
  add_int("--global-batch-size", recipe.global_batch_sequences);
  add_int("--micro-batch-size", recipe.micro_batch_sequences);
  if (layout) add_layout_args(*layout, args);
  if (recipe.peak_lr || recipe.train_steps) {
    args.emplace_back("--adam-beta1", "0.9");
    args.emplace_back("--adam-beta2", "0.95");
    args.emplace_back("--adam-eps", "1e-8");
    args.emplace_back("--weight-decay", "1e-5");
    args.emplace_back("--clip-grad", "1.0");
  }

  std::ostringstream out;
  out << "# Megatron-LM arguments for pretrain_gpt.py, written by moeplan: " << law::describe(arch)
      << "\n"
      << "# Usage: source this file, then\n";
  if (layout)
    out << "#   torchrun (" << layout->degrees.devices() << " GPUs in all) ... pretrain_gpt.py "
        << "\"${MOEPLAN_MEGATRON_ARGS[@]}\" <data and tokenizer arguments>\n"
        << "# Layout: TP " << layout->degrees.tensor << " x EP " << layout->degrees.expert
        << " x PP " << layout->degrees.pipeline << " x DP " << layout->degrees.data
        << (layout->zero_stage >= 2 ? "; ZeRO-" + std::to_string(layout->zero_stage) +
                                          " needs Megatron's FSDP path (--use-megatron-fsdp)"
                                    : std::string())
        << "\n";
  else
    out << "#   torchrun ... pretrain_gpt.py \"${MOEPLAN_MEGATRON_ARGS[@]}\" <data, tokenizer and\n"
        << "#   parallelism arguments>\n";
  out << "# The tokenizer must give vocab_size " << arch.vocab_size
      << " (Megatron pads it to a multiple of 128 x tensor-parallel size).\n"
      << "MOEPLAN_MEGATRON_ARGS=(\n";
  for (const auto& [flag, value] : args) {
    out << "  " << flag;
    if (!value.empty()) out << " " << value;
    out << "\n";
  }
  out << ")\n";
  return out.str();
}

}  // namespace moeplan::planner
