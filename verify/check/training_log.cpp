#include "verify/check/training_log.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/error.h"
#include "util/files.h"
#include "util/json_text.h"

namespace moeplan::verify {
namespace {

constexpr const char* kMegatronMarker = "validation loss at ";
constexpr const char* kMegatronLmLoss = "lm loss value:";

bool is_megatron(const std::string& text) {
  return text.find(kMegatronMarker) != std::string::npos;
}

// The number after `key` in `line` (strtod syntax); nullopt when absent or not a number.
std::optional<double> number_after(const std::string& line, const std::string& key) {
  const auto at = line.find(key);
  if (at == std::string::npos) return std::nullopt;
  const char* begin = line.c_str() + at + key.size();
  char* end = nullptr;
  const double x = std::strtod(begin, &end);
  if (end == begin) return std::nullopt;
  return x;
}

TrainingLog parse_megatron(const std::string& text, const std::string& origin) {
  TrainingLog log;
  log.format = "megatron";
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const auto at = line.find(kMegatronMarker);
    if (at == std::string::npos) continue;
    const std::string prefix = line.substr(at, line.find('|', at) - at);
    if (prefix.find("test") != std::string::npos) continue;  // test data, not validation
    const auto loss = number_after(line, kMegatronLmLoss);
    if (!loss) fail(origin, ":", number, ": a Megatron validation line without 'lm loss value: X'");
    if (!std::isfinite(*loss) || *loss <= 0)
      fail(origin, ":", number, ": validation loss ", *loss, " is not a positive number");
    const auto iteration = number_after(prefix, "iteration ");
    log.val_curve.push_back({iteration.value_or(std::numeric_limits<double>::quiet_NaN()), *loss});
  }
  return log;
}

TrainingLog parse_jsonl(const std::string& text, const std::string& origin) {
  TrainingLog log;
  log.format = "moeplan-jsonl";
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    check_json_depth(line, origin + ":" + std::to_string(number));
    const auto record = nlohmann::json::parse(line, nullptr, false);
    if (record.is_discarded() || !record.is_object())
      fail(origin, ":", number,
           ": not a JSON record (expected moeplan's JSON-lines training "
           "log or a Megatron-LM text log)");
    const double step =
        record.contains("step") && record["step"].is_number() ? record["step"].get<double>() : NAN;
    for (const char* key : {"val_loss", "train_loss"}) {
      if (!record.contains(key)) continue;
      if (!record[key].is_number())
        fail(origin, ":", number, ": \"", key, "\" must be a number, got ", record[key].dump());
      auto& curve = std::string(key) == "val_loss" ? log.val_curve : log.train_curve;
      curve.push_back({step, record[key].get<double>()});
    }
  }
  return log;
}

}  // namespace

TrainingLog parse_training_log(const std::string& text, const std::string& origin) {
  TrainingLog log = is_megatron(text) ? parse_megatron(text, origin) : parse_jsonl(text, origin);
  if (log.val_curve.empty())
    fail(origin,
         ": no validation loss in the log (moeplan JSON lines with \"val_loss\", or "
         "Megatron-LM lines 'validation loss at ... | lm loss value: X')");
  log.final_val_loss = log.val_curve.back().loss;
  if (!std::isfinite(log.final_val_loss) || log.final_val_loss <= 0)
    fail(origin, ": the last validation loss ", log.final_val_loss, " is not a positive number");
  return log;
}

TrainingLog read_training_log(const std::string& path) {
  return parse_training_log(read_file(path), path);
}

}  // namespace moeplan::verify
