#include "verify/sweep/run_list.h"

#include <nlohmann/json.hpp>

#include "planner/report.h"
#include "util/error.h"
#include "util/files.h"
#include "verify/arch_json.h"

namespace moeplan::verify {
namespace {

RunKind parse_kind(const std::string& name, const std::string& where) {
  for (const RunKind k : {RunKind::kGrid, RunKind::kBracket, RunKind::kRepeat})
    if (name == run_kind_name(k)) return k;
  fail(where, ": unknown run kind '", name, "'");
}

nlohmann::json run_to_json(const SweepRun& run) {
  return {{"key", run.key},
          {"kind", run_kind_name(run.kind)},
          {"budget_flops", run.budget_flops},
          {"replicate", run.replicate},
          {"architecture", planner::architecture_to_json(run.arch)}};
}

SweepRun run_from_json(const nlohmann::json& j, const std::string& where) {
  try {
    SweepRun run;
    run.key = j.at("key").get<std::string>();
    run.kind = parse_kind(j.at("kind").get<std::string>(), where);
    run.budget_flops = j.at("budget_flops").get<double>();
    run.replicate = j.at("replicate").get<int>();
    run.arch = architecture_from_json(j.at("architecture"), where);
    return run;
  } catch (const nlohmann::json::exception& e) {
    fail(where, ": malformed run entry (", e.what(), ")");
  }
}

}  // namespace

std::vector<SweepRun> read_run_list(const std::filesystem::path& sweep_dir) {
  const auto path = sweep_dir / kRunListFileName;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return {};
  const nlohmann::json j = read_json_file(path);
  if (!j.is_object() || !j.contains("runs") || !j["runs"].is_array())
    fail(path.string(), " is not a sweep run list (it needs a \"runs\" array)");
  std::vector<SweepRun> runs;
  for (std::size_t i = 0; i < j["runs"].size(); ++i)
    runs.push_back(run_from_json(j["runs"][i], path.string() + " run " + std::to_string(i)));
  return runs;
}

std::vector<SweepRun> append_runs(const std::filesystem::path& sweep_dir,
                                  const std::vector<SweepRun>& added) {
  std::vector<SweepRun> runs = read_run_list(sweep_dir);
  runs.insert(runs.end(), added.begin(), added.end());
  nlohmann::json list = nlohmann::json::array();
  for (const SweepRun& run : runs) list.push_back(run_to_json(run));
  write_file_atomic(sweep_dir / kRunListFileName, nlohmann::json{{"runs", list}}.dump(1) + "\n");
  return runs;
}

}  // namespace moeplan::verify
