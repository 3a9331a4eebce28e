#pragma once
// Resolves `--law NAME|FILE`: a compiled-in preset name, or a path to a law JSON file (a preset
// copy, or the output of `moeplan law fit`).
#include <string>

#include "law/scaling_law.h"

namespace moeplan::planner {

// Throws moeplan::Error: unknown preset (with "did you mean"), unreadable or malformed file.
law::ScalingLaw load_law(const std::string& name_or_path);

}  // namespace moeplan::planner
