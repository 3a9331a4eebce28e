#pragma once
// What `verify` prints: a table for people, JSON for programs, Markdown with plots.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "planner/plots.h"
#include "verify/check/claims.h"
#include "verify/check/neighbors.h"
#include "verify/check/prediction_record.h"
#include "verify/check/training_log.h"
#include "verify/check/verdict.h"

namespace moeplan::verify {

struct VerifyReport {
  Prediction prediction;
  bool prediction_reused = false;  // read back from VERIFY/prediction.json
  std::string prediction_path;     // empty when not written (--measured-loss without --out)
  std::optional<Verdict> verdict;  // none when nothing was measured
  std::string measured_source;     // "--measured-loss", "megatron log FILE", "trained here: DIR"
  std::optional<TrainingLog> log;  // the measured run's curve, when known
  std::vector<ClaimCheck> claims;
  std::vector<MeasuredModel> neighbors;  // --neighbors: the planned model and its neighbours
};

nlohmann::json verify_report_json(const VerifyReport& report);
std::string verify_report_table(const VerifyReport& report);
// The verdict as a heading, the table's text, and the rendered plots (or why there are none).
std::string verify_report_markdown(const VerifyReport& report, const planner::PlotOutcome& plots);

}  // namespace moeplan::verify
