#pragma once
// Law presets compiled in from presets/laws/*.json (see cmake/embed_presets.cmake).
#include <string>
#include <vector>

#include "law/scaling_law.h"

namespace moeplan::law {

struct EmbeddedPreset {
  const char* name;  // file stem, e.g. "abnar2025"
  const char* json;
};

const std::vector<EmbeddedPreset>& embedded_presets();
std::vector<std::string> preset_names();
bool is_preset(const std::string& name);
// Throws moeplan::Error ("unknown law preset 'abnar2052'; did you mean 'abnar2025'?").
ScalingLaw preset_law(const std::string& name);

}  // namespace moeplan::law
