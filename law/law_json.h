#pragma once
// Law files (presets/laws/*.json, and the output of `law fit`) to and from ScalingLaw.
// Parsing a string is not I/O: reading the file is the caller's job.
#include <nlohmann/json.hpp>
#include <string>

#include "law/scaling_law.h"

namespace moeplan::law {

inline constexpr int kLawSchemaVersion = 1;

// Throws moeplan::Error naming `origin` (a preset name or file path) and the bad key.
ScalingLaw law_from_json(const nlohmann::json& json, const std::string& origin);
ScalingLaw law_from_json_text(const std::string& text, const std::string& origin);
nlohmann::json law_to_json(const ScalingLaw& law);
nlohmann::json coefficients_to_json(const Coefficients& coefficients, LawForm form);

}  // namespace moeplan::law
