#pragma once
// The "architecture" object of a plan JSON, also accepted alone as ARCH.json (written and read
// here, the one place):
//   {"d_model", "n_layers", "n_heads", "experts", "active_experts", "granularity",
//    "expert_hidden" (optional: 4·d/G), "vocab_size", "context", "tied_embeddings" (optional)}
#include <filesystem>
#include <nlohmann/json.hpp>

#include "law/architecture.h"

namespace moeplan::planner {

// The architecture as written into plans, checkpoints and summaries (with head_dim and a
// description, which architecture_from_json ignores).
nlohmann::json architecture_to_json(const law::MoeArchitecture& architecture);

law::MoeArchitecture architecture_from_json(const nlohmann::json& object, const std::string& where);

// Parses a JSON file; throws moeplan::Error naming the file when it cannot be read or parsed.
nlohmann::json read_json_file(const std::filesystem::path& path);

// The architecture of a parsed ARCH.json document: the object itself, or its "architecture"
// key (a plan). `where` names the document in errors.
law::MoeArchitecture architecture_from_document(const nlohmann::json& document,
                                                const std::string& where);

// Reads ARCH.json (the object itself, or any JSON with an "architecture" key such as a plan).
law::MoeArchitecture read_architecture_file(const std::filesystem::path& path);

}  // namespace moeplan::planner
