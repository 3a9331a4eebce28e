#pragma once
// Hugging Face config.json → law::ModelDescription, family by family, following each family's
// modeling code in transformers (and DeepSeek's own code where it differs): which projections
// carry biases, where the QK-norms sit and how wide they are, which layers are MoE, how shared
// experts are sized. A key the family needs that is missing, or a value of the wrong kind, throws
// moeplan::Error naming the key and the family; keys the family's config class defaults (e.g.
// num_key_value_heads) take that default and say so in `notes`.
//
// A model_type not in the table is read by the generic reader (planner/hf_config_generic.h),
// with a warning naming the fallback, unless it is a near miss of a known one: within
// closest_match's distance (a third of its length in edits, 1 to 3) of a known model_type, and
// either that family's reader reads the config ("mixtrl" with Mixtral's keys: a typo) or the
// generic reader cannot. Then it is an error with "did you mean". A real family that is merely
// spelt close to a known one (olmo or olmo2 next to olmoe, mistral3 next to mistral) lacks the
// known family's keys, so it is read generically.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "law/model_accounting.h"

namespace moeplan::planner {

struct HfModel {
  std::string model_type;  // as in the file; "llama4" for a Llama 4 config with text_config
  std::string family;      // "Mixtral", "DeepSeek-V3", ...
  law::ModelDescription model;
  std::optional<std::int64_t> context;  // max_position_embeddings (DBRX: max_seq_len)
  std::int64_t mtp_layers = 0;          // DeepSeek-V3's multi-token-prediction modules
  std::int64_t mtp_params = 0;          // their parameters, excluded from every count
  std::vector<std::string> notes;       // defaults taken, parts excluded
  std::vector<std::string> warnings;    // the generic reader's fallback, one line each
};

// Parses `json_text` (the contents of a config.json; `source` names it in errors).
HfModel read_hf_config(const std::string& json_text, const std::string& source);

// How a family's authors state "active parameters" on their model cards. The counts themselves
// are exact either way; this only picks which of them `count` reports as active_params, so the
// number matches the one users know (gpt-oss-120b "5.1B active", not 5.7B).
enum class ActiveConvention {
  kAllEmbeddings,           // Mixtral, Qwen, OLMoE, Phi, Llama 4: input and output embeddings count
  kWithoutInputEmbedding,   // gpt-oss, DeepSeek-V2/V3, DBRX: the input lookup does not count
  kNonEmbedding,            // Granite-MoE: no embedding counts
};
ActiveConvention published_active_convention(const std::string& model_type);
std::string convention_name(ActiveConvention convention);  // "all-embeddings", ...

// The model_type values read_hf_config understands.
const std::vector<std::string>& supported_model_types();

}  // namespace moeplan::planner
