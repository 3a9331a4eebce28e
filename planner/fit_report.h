#pragma once
// What `law fit` prints and writes: a table for people, and the law file (the law schema of
// presets/laws/*.json plus a "fit" object with the fit's metadata and "warnings").
#include <nlohmann/json.hpp>
#include <string>

#include "law/fit_law.h"

namespace moeplan::planner {

struct FitReportInputs {
  std::string runs_path;
  std::size_t runs_total = 0;
  std::string holdout;  // rule name
  std::string starts;   // "paper grid (437400)", ...
  double seconds = 0;   // wall time of the fit
  std::string left_out;  // "left out 4 runs: 3 diverged, 1 failed" (planner/runs_csv.h) or ""
  nlohmann::json left_out_json = nlohmann::json::object();
  bool warnings_in_table = true;  // false: the caller prints them (on stderr) instead
};

// What a bootstrap interval is of, as the report says it.
std::string interval_description(double level);

// The law file: law_to_json(result.law) + "fit": {...} + "warnings": [...].
nlohmann::json fit_law_json(const law::FitResult& result, const FitReportInputs& inputs);
std::string fit_report_table(const law::FitResult& result, const FitReportInputs& inputs);

}  // namespace moeplan::planner
