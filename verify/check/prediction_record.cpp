#include "verify/check/prediction_record.h"

#include "planner/report.h"
#include "util/error.h"
#include "util/files.h"
#include "planner/architecture_json.h"

namespace moeplan::verify {
namespace {

using nlohmann::json;

json interval_parts_json(const IntervalParts& p) {
  json j;
  j["bootstrap"] = {{"low", p.bootstrap.lo}, {"high", p.bootstrap.hi}};
  if (p.backtest)
    j["backtest"] = {{"relative_error", p.backtest->relative_error},
                     {"scaled_relative_error", p.backtest->scaled_relative_error},
                     {"held_out_budget_flops", p.backtest->held_out_budget_flops},
                     {"fit_max_budget_flops", p.backtest->fit_max_budget_flops},
                     {"held_out_runs", p.backtest->held_out_runs}};
  else
    j["backtest"] = {{"missing", p.backtest_missing}};
  if (p.noise)
    j["noise"] = {{"std_loss", p.noise->std_loss},
                  {"groups", p.noise->groups},
                  {"replicates", p.noise->replicates}};
  else
    j["noise"] = {{"missing", p.noise_missing}};
  return j;
}

double number(const json& j, const char* key, const std::string& origin) {
  if (!j.contains(key) || !j[key].is_number())
    fail(origin, ": \"", key, "\" must be a number (not a verify prediction file?)");
  return j[key].get<double>();
}

IntervalParts interval_parts_from_json(const json& j, double predicted, const std::string& origin) {
  IntervalParts p;
  p.predicted_loss = predicted;
  const json& b = j.at("bootstrap");
  p.bootstrap = {number(b, "low", origin), number(b, "high", origin)};
  const json& t = j.at("backtest");
  if (t.contains("missing")) {
    p.backtest_missing = t["missing"].get<std::string>();
  } else {
    p.backtest = BacktestPart{
        number(t, "relative_error", origin), number(t, "held_out_budget_flops", origin),
        number(t, "fit_max_budget_flops", origin), t.at("held_out_runs").get<std::size_t>(),
        number(t, "scaled_relative_error", origin)};
  }
  const json& n = j.at("noise");
  if (n.contains("missing"))
    p.noise_missing = n["missing"].get<std::string>();
  else
    p.noise = NoisePart{number(n, "std_loss", origin), n.at("groups").get<std::size_t>(),
                        n.at("replicates").get<std::size_t>()};
  return p;
}

}  // namespace

json PredictionInputs::to_json() const {
  return {{"law_file_hash", law_file_hash}, {"ledger_hash", ledger_hash},
          {"sweep_hash", sweep_hash},       {"plan_file_hash", plan_file_hash},
          {"budget_flops", budget_flops},   {"max_sparsity", max_sparsity},
          {"tolerance", tolerance}};
}

json prediction_to_json(const Prediction& p) {
  json j;
  j["format"] = kPredictionFormat;
  j["moeplan_version"] = p.moeplan_version;
  j["inputs"] = p.inputs.to_json();
  j["plan"] = {{"architecture", planner::architecture_to_json(p.architecture)},
               {"total_params", p.total_params},
               {"active_params", p.active_params},
               {"sparsity", p.sparsity},
               {"tokens", p.tokens},
               {"budget_flops", p.inputs.budget_flops}};
  j["predicted_loss"] = p.predicted_loss;
  j["interval"] = {{"level", kIntervalLevel},
                   {"low", p.interval.lo},
                   {"high", p.interval.hi},
                   {"parts", interval_parts_json(p.parts)}};
  return j;
}

Prediction prediction_from_json(const json& j, const std::string& origin) {
  if (!j.is_object() || j.value("format", "") != kPredictionFormat)
    fail(origin, ": not a verify prediction (format \"", kPredictionFormat, "\")");
  try {
    Prediction p;
    const json& in = j.at("inputs");
    p.inputs = {in.at("law_file_hash"),
                in.at("ledger_hash"),
                in.at("sweep_hash"),
                in.at("plan_file_hash"),
                number(in, "budget_flops", origin),
                number(in, "max_sparsity", origin),
                number(in, "tolerance", origin)};
    const json& plan = j.at("plan");
    p.architecture = planner::architecture_from_json(plan.at("architecture"), origin);
    p.total_params = number(plan, "total_params", origin);
    p.active_params = number(plan, "active_params", origin);
    p.sparsity = number(plan, "sparsity", origin);
    p.tokens = number(plan, "tokens", origin);
    p.predicted_loss = number(j, "predicted_loss", origin);
    const json& interval = j.at("interval");
    p.interval = {number(interval, "low", origin), number(interval, "high", origin)};
    p.parts = interval_parts_from_json(interval.at("parts"), p.predicted_loss, origin);
    p.moeplan_version = j.value("moeplan_version", "");
    return p;
  } catch (const json::exception& e) {
    fail(origin, ": malformed verify prediction (", e.what(), ")");
  }
}

std::optional<Prediction> stored_prediction(const std::filesystem::path& path,
                                            const PredictionInputs& inputs) {
  if (!std::filesystem::exists(path)) return std::nullopt;
  Prediction stored = prediction_from_json(planner::read_json_file(path), path.string());
  const json want = inputs.to_json(), have = stored.inputs.to_json();
  for (const auto& [key, value] : want.items())
    if (have.at(key) != value)
      fail(path.string(), " was written for other inputs (", key, " ", have.at(key).dump(),
           ", now ", value.dump(), "); a prediction is never overwritten: use another --out");
  return stored;
}

void write_prediction(const std::filesystem::path& path, const Prediction& prediction) {
  if (std::filesystem::exists(path))
    fail(path.string(), " exists; a prediction is never overwritten");
  write_file_atomic(path, prediction_to_json(prediction).dump(2) + "\n");
}

}  // namespace moeplan::verify
