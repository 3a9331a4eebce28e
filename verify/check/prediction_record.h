#pragma once
// VERIFY/prediction.json: the prediction `verify` commits to before it trains anything (as
// Marin posted its number before the run). Written once, never overwritten: a rerun with the
// same inputs reuses it (and resumes training); different inputs are refused.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "law/architecture.h"
#include "verify/check/prediction_interval.h"

namespace moeplan::verify {

inline constexpr const char* kPredictionFormat = "moeplan-verify-prediction-1";
inline constexpr const char* kPredictionFileName = "prediction.json";

// What the prediction was made from; two predictions with equal inputs are the same one.
struct PredictionInputs {
  std::string law_file_hash;   // FNV-1a (util/hash.h) of the law file's bytes
  std::string ledger_hash;     // of SWEEP/runs.csv
  std::string sweep_hash;      // of the sweep setup's identity (SweepSetup::identity())
  std::string plan_file_hash;  // of --plan's file; empty when verify planned itself
  double budget_flops = 0;
  double max_sparsity = 0;
  double tolerance = 0;  // fixed with the prediction: no loosening after the measurement
  nlohmann::json to_json() const;
};

struct Prediction {
  PredictionInputs inputs;
  law::MoeArchitecture architecture;
  double total_params = 0, active_params = 0, sparsity = 0, tokens = 0;
  double predicted_loss = 0;
  IntervalParts parts;
  law::Range interval;  // combined_interval(parts)
  std::string moeplan_version;
};

nlohmann::json prediction_to_json(const Prediction& prediction);
Prediction prediction_from_json(const nlohmann::json& json, const std::string& origin);

// The prediction stored at `path` when its inputs equal `inputs`; nullopt when there is none;
// throws Error naming the first differing input otherwise.
std::optional<Prediction> stored_prediction(const std::filesystem::path& path,
                                            const PredictionInputs& inputs);

// Writes `prediction` to `path` atomically; throws Error when a file is already there.
void write_prediction(const std::filesystem::path& path, const Prediction& prediction);

}  // namespace moeplan::verify
