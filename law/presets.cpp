#include "law/presets.h"

#include "law/law_json.h"
#include "util/error.h"
#include "util/text.h"

namespace moeplan::law {

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& p : embedded_presets()) names.emplace_back(p.name);
  return names;
}

bool is_preset(const std::string& name) {
  for (const auto& p : embedded_presets())
    if (name == p.name) return true;
  return false;
}

ScalingLaw preset_law(const std::string& name) {
  for (const auto& p : embedded_presets())
    if (name == p.name) return law_from_json_text(p.json, name);
  throw Error(unknown_name_message("law preset", name, preset_names()));
}

}  // namespace moeplan::law
