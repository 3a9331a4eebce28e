#include "planner/architecture_json.h"

#include <cmath>

#include "util/error.h"
#include "util/file_limits.h"
#include "util/json_text.h"

namespace moeplan::planner {

nlohmann::json architecture_to_json(const law::MoeArchitecture& a) {
  return {{"d_model", a.d_model},
          {"n_layers", a.n_layers},
          {"n_heads", a.n_heads},
          {"head_dim", a.head_dim()},
          {"experts", a.experts},
          {"active_experts", a.active_experts},
          {"granularity", a.granularity},
          {"expert_hidden", a.expert_hidden},
          {"vocab_size", a.vocab_size},
          {"context", a.context},
          {"tied_embeddings", a.tied_embeddings},
          {"description", law::describe(a)}};
}

law::MoeArchitecture architecture_from_json(const nlohmann::json& object,
                                            const std::string& where) {
  if (!object.is_object()) fail(where, ": the architecture is not a JSON object");
  const auto integer = [&](const char* key, bool required, std::int64_t fallback) -> std::int64_t {
    if (!object.contains(key)) {
      if (required) fail(where, ": the architecture lacks \"", key, "\"");
      return fallback;
    }
    const auto& v = object.at(key);
    if (!v.is_number_integer() &&
        !(v.is_number_float() && v.get<double>() == std::floor(v.get<double>()))) {
      fail(where, ": architecture key \"", key, "\" must be an integer, got ",
           json_value_excerpt(v));
    }
    return v.is_number_integer() ? v.get<std::int64_t>()
                                 : static_cast<std::int64_t>(v.get<double>());
  };
  law::MoeArchitecture a;
  a.d_model = integer("d_model", true, 0);
  a.n_layers = integer("n_layers", true, 0);
  a.n_heads = integer("n_heads", true, 0);
  a.experts = integer("experts", true, 0);
  a.active_experts = integer("active_experts", true, 0);
  a.granularity = integer("granularity", false, 1);
  a.vocab_size = integer("vocab_size", true, 0);
  a.context = integer("context", true, 0);
  a.expert_hidden = integer("expert_hidden", false, 0);
  if (a.expert_hidden == 0) a.expert_hidden = law::paper_expert_hidden(a.d_model, a.granularity);
  if (object.contains("tied_embeddings")) {
    if (!object.at("tied_embeddings").is_boolean())
      fail(where, ": \"tied_embeddings\" must be true or false");
    a.tied_embeddings = object.at("tied_embeddings").get<bool>();
  }
  try {
    law::count_params(a);  // validates it, and refuses counts past int64 (10^12 experts)
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
  return a;
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  return parse_json_text(read_file(path, kMaxJsonFileBytes, "JSON file"), path.string());
}

law::MoeArchitecture architecture_from_document(const nlohmann::json& document,
                                                const std::string& where) {
  if (document.is_object() && document.contains("architecture"))
    return architecture_from_json(document["architecture"], where);
  return architecture_from_json(document, where);
}

law::MoeArchitecture read_architecture_file(const std::filesystem::path& path) {
  return architecture_from_document(read_json_file(path), path.string());
}

}  // namespace moeplan::planner
