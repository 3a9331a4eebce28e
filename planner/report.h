#pragma once
// The plan as a report: JSON (schema_version 1, every number), a plain-text table, Markdown.
#include <nlohmann/json.hpp>
#include <string>

#include "planner/architecture_json.h"
#include "planner/plan.h"
#include "planner/plots.h"
#include "planner/slices.h"

namespace moeplan::planner {

inline constexpr int kPlanSchemaVersion = 1;

nlohmann::json plan_to_json(const PlanResult& plan, const PlanSlices* slices = nullptr,
                            const PlotOutcome* plots = nullptr);
std::string plan_table(const PlanResult& plan);
std::string plan_markdown(const PlanResult& plan, const PlotOutcome& plots);

}  // namespace moeplan::planner
