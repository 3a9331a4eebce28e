#include "planner/law_source.h"

#include <filesystem>

#include "law/law_json.h"
#include "law/presets.h"
#include "util/error.h"
#include "util/file_limits.h"
#include "util/json_text.h"
#include "util/text.h"

namespace moeplan::planner {

law::ScalingLaw load_law(const std::string& name_or_path) {
  if (law::is_preset(name_or_path)) return law::preset_law(name_or_path);
  std::error_code ec;
  const bool looks_like_path = name_or_path.find('/') != std::string::npos ||
                               name_or_path.find(".json") != std::string::npos;
  if (std::filesystem::exists(name_or_path, ec))
    return law::law_from_json_text(read_file(name_or_path, kMaxJsonFileBytes, "law file"),
                                   name_or_path);
  if (looks_like_path) fail("law file ", quoted_excerpt(name_or_path), " does not exist");
  throw Error(unknown_name_message("law preset", name_or_path, law::preset_names()) +
              " (or give a path to a law JSON file)");
}

}  // namespace moeplan::planner
