// `moeplan count --hf-config config.json`: exact parameter and FLOP accounting of a real
// architecture read from its Hugging Face config (planner/hf_config.h, law/model_accounting.h).
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "law/flops.h"
#include "law/model_accounting.h"
#include "planner/hf_config.h"
#include "util/error.h"
#include "util/file_limits.h"
#include "util/json_text.h"
#include "util/text.h"
#include "util/units.h"

namespace moeplan::cli {

namespace {

// --context when the config gives none: the plan's default context (the paper's).
const std::int64_t kDefaultContext = law::MoeArchitecture{}.context;

const std::vector<std::string> kConventions = {
    "embeddings count in total_params; active_params follows the family's published convention "
    "(active_params_convention: all-embeddings, without-input-embedding or non-embedding), and "
    "the three variants are always given explicitly",
    "tied embeddings count once",
    "the router and shared experts are active; K routed experts per MoE layer are active",
    "every learned weight, bias, norm gain and attention sink counts; RoPE tables do not",
    "multi-token-prediction (MTP) modules are excluded (not part of the Hugging Face model)",
    "vision towers and projectors of multimodal configs are excluded",
    "flops_per_token = 6*N_a with N_a = active_params_all_embeddings (the paper's convention, as "
    "moeplan plan counts it; forward and backward) + attention "
    "6*n_ctx*(H*d_qk + H*d_v) per layer, full (non-causal) attention over min(window, context)",
};

struct Report {
  std::string source;
  planner::HfModel hf;
  law::ModelCounts counts;
  std::int64_t context = 0;
  std::string context_source;  // "--context", "config" or "default" (kDefaultContext)
  double six_na = 0;
  double attention = 0;
  double per_token = 0;  // law::model_flops_per_token: 6·N_a + attention
  double flops() const { return per_token; }
  planner::ActiveConvention convention() const {
    return planner::published_active_convention(hf.model_type);
  }
  // active_params as the family's authors state it.
  std::int64_t active_published() const {
    switch (convention()) {
      case planner::ActiveConvention::kWithoutInputEmbedding:
        return counts.active_without_input_embedding();
      case planner::ActiveConvention::kNonEmbedding: return counts.active_non_embedding();
      case planner::ActiveConvention::kAllEmbeddings: break;
    }
    return counts.active;
  }
};

std::string with_commas(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::string render_json(const Report& r) {
  const law::ModelCounts& c = r.counts;
  nlohmann::ordered_json j;
  j["schema"] = "moeplan.count/1";
  j["source"] = r.source;
  j["model_type"] = r.hf.model_type;
  j["family"] = r.hf.family;
  j["total_params"] = c.total;
  j["active_params"] = r.active_published();
  j["active_params_convention"] = planner::convention_name(r.convention());
  j["embedding_params"] = c.embedding();
  j["flops_per_token"] = r.flops();
  j["non_embedding_params"] = c.non_embedding();
  j["active_params_all_embeddings"] = c.active;
  j["active_params_without_input_embedding"] = c.active_without_input_embedding();
  j["active_non_embedding_params"] = c.active_non_embedding();
  j["context"] = r.context;
  j["context_source"] = r.context_source;
  j["flops"] = {{"six_na", r.six_na}, {"attention", r.attention}, {"per_token", r.flops()}};
  j["breakdown"] = {{"input_embedding", c.input_embedding},
                    {"output_embedding", c.output_embedding},
                    {"attention", c.attention},
                    {"router", c.router},
                    {"experts_total", c.experts_total},
                    {"experts_active", c.experts_active},
                    {"shared_experts", c.shared_experts},
                    {"dense_mlp", c.dense_mlp},
                    {"norms", c.norms}};
  j["layers"] = {
      {"total", c.moe_layers + c.dense_layers}, {"moe", c.moe_layers}, {"dense", c.dense_layers}};
  j["tied_embeddings"] = r.hf.model.tied_embeddings;
  j["excluded"] = {{"mtp_layers", r.hf.mtp_layers}, {"mtp_params", r.hf.mtp_params}};
  j["conventions"] = kConventions;
  j["notes"] = r.hf.notes;
  j["warnings"] = r.hf.warnings;
  return j.dump(2) + "\n";
}

std::string render_table(const Report& r) {
  const law::ModelCounts& c = r.counts;
  std::ostringstream s;
  auto row = [&](const std::string& name, std::int64_t value) {
    s << "  " << name << std::string(name.size() < 40 ? 40 - name.size() : 1, ' ') << std::setw(19)
      << with_commas(value) << "  (" << format_count(static_cast<double>(value)) << ")\n";
  };
  s << r.hf.family << " (model_type " << r.hf.model_type << ") from " << r.source << "\n";
  s << "  layers " << (c.moe_layers + c.dense_layers) << " (" << c.moe_layers << " MoE, "
    << c.dense_layers << " dense), hidden " << r.hf.model.d_model << ", vocab "
    << r.hf.model.vocab_size << ", embeddings " << (r.hf.model.tied_embeddings ? "tied" : "untied")
    << "\n\n";
  s << "parameters\n";
  row("total_params", c.total);
  row("active_params (" + planner::convention_name(r.convention()) + ")", r.active_published());
  row("embedding_params", c.embedding());
  row("non_embedding_params", c.non_embedding());
  // The other two ways to count active parameters; active_params above is the published one.
  using planner::ActiveConvention;
  if (r.convention() != ActiveConvention::kAllEmbeddings)
    row("active_params_all_embeddings", c.active);
  if (r.convention() != ActiveConvention::kWithoutInputEmbedding)
    row("active_params_without_input_embedding", c.active_without_input_embedding());
  if (r.convention() != ActiveConvention::kNonEmbedding)
    row("active_non_embedding_params", c.active_non_embedding());
  s << "\nbreakdown\n";
  row("input_embedding", c.input_embedding);
  row("output_embedding", c.output_embedding);
  row("attention", c.attention);
  row("router", c.router);
  row("experts_total", c.experts_total);
  row("experts_active", c.experts_active);
  row("shared_experts", c.shared_experts);
  row("dense_mlp", c.dense_mlp);
  row("norms", c.norms);
  if (r.hf.mtp_layers > 0) row("excluded: mtp_params", r.hf.mtp_params);
  s << "\nFLOPs per token at context " << r.context << "\n";
  s << "  6*N_a                                   " << format_sci(r.six_na) << "\n";
  s << "  attention                               " << format_sci(r.attention) << "\n";
  s << "  flops_per_token                         " << format_sci(r.flops()) << "\n";
  s << "\nconventions\n";
  for (const std::string& line : kConventions) s << "  - " << line << "\n";
  if (!r.hf.notes.empty()) {
    s << "\nnotes\n";
    for (const std::string& line : r.hf.notes) s << "  - " << line << "\n";
  }
  return s.str();
}

}  // namespace

int run_count(const std::vector<std::string>& args) {
  CommandSpec spec;
  spec.usage =
      "moeplan count --hf-config config.json [--format table|json] [--context N] [-o FILE]";
  spec.description =
      "Exact total and active parameters, embedding parameters and FLOPs per token of a Hugging "
      "Face config.json (MoE or dense decoder). Families: " +
      [] {
        std::string all;
        for (const std::string& t : planner::supported_model_types())
          all += (all.empty() ? "" : ", ") + t;
        return all;
      }() +
      "; any other model_type is read by a generic reader of the common keys, with a warning"
      ". active_params follows the family's published convention (gpt-oss, DeepSeek-V2/V3 and DBRX "
      "leave out the input embedding, Granite every embedding) and all three variants are printed; "
      "MTP modules and vision towers are excluded.";
  const std::string context_help =
      "context length for the attention FLOPs (default: the config's max_position_embeddings, "
      "else " +
      std::to_string(kDefaultContext) + ")";
  spec.options.add_options()("hf-config", po::value<std::string>(),
                             "Hugging Face config.json to read (also positional)")(
      "format", po::value<std::string>()->default_value("table"), "table or json")(
      "context", po::value<std::string>(), context_help.c_str())(
      "output,o", po::value<std::string>()->default_value("-"), "output file ('-' for stdout)");
  spec.positional.add("hf-config", 1);
  const auto vm = parse_command(spec, args);
  if (!vm) return 0;

  if (!vm->count("hf-config")) fail("count needs --hf-config FILE (a Hugging Face config.json)");
  const std::string format = (*vm)["format"].as<std::string>();
  if (format != "table" && format != "json")
    throw Error(unknown_name_message("format", format, {"table", "json"}));
  const std::string output = (*vm)["output"].as<std::string>();
  check_output(output);

  Report r;
  r.source = (*vm)["hf-config"].as<std::string>();
  r.hf = planner::read_hf_config(
      read_file(r.source, kMaxJsonFileBytes, "Hugging Face config"), r.source);
  if (vm->count("context")) {
    r.context = parse_positive_int((*vm)["context"].as<std::string>(), "--context");
    r.context_source = "--context";
  } else if (r.hf.context) {
    r.context = *r.hf.context;
    r.context_source = "config";
  } else {
    // Only the attention FLOPs need a context; the parameter counts do not.
    r.context = kDefaultContext;
    r.context_source = "default";
    r.hf.notes.push_back("max_position_embeddings absent: the attention FLOPs use context " +
                         std::to_string(kDefaultContext) +
                         ", the --context default (the paper's, as plan uses)");
  }
  for (const std::string& warning : r.hf.warnings)
    std::cerr << "moeplan: warning: " << warning << "\n";
  r.counts = law::count_model(r.hf.model);
  r.six_na = law::six_na_flops_per_token(static_cast<double>(r.counts.active));
  r.attention = law::model_attention_flops_per_token(r.hf.model, r.context);
  r.per_token = law::model_flops_per_token(r.hf.model, r.context);

  emit_output(output, format == "json" ? render_json(r) : render_table(r));
  return 0;
}

}  // namespace moeplan::cli
