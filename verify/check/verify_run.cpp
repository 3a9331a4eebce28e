#include "verify/check/verify_run.h"

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/files.h"
#include "planner/architecture_json.h"
#include "verify/checkpoint.h"
#include "verify/train_loop.h"

namespace moeplan::verify {
namespace {

std::optional<TrainingLog> run_log(const TrainConfig& config) {
  if (config.log_path.empty() || !std::filesystem::exists(config.log_path)) return std::nullopt;
  return read_training_log(config.log_path.string());
}

}  // namespace

TrainConfig verify_train_config(const SweepSetup& setup, const law::MoeArchitecture& architecture,
                                double budget_flops, const std::filesystem::path& run_dir) {
  TrainConfig config = run_train_config(setup, architecture, budget_flops, setup.seed, run_dir);
  if (std::filesystem::exists(run_dir / kCheckpointFileName)) config.resume = run_dir;
  return config;
}

MeasuredRun train_verify_run(const TrainConfig& config, std::ostream& out) {
  const auto result_path = config.out_dir / kRunResultFileName;
  MeasuredRun run;
  if (std::filesystem::exists(result_path)) {
    const auto result = planner::read_json_file(result_path);
    if (!result.contains("val_loss") || !result["val_loss"].is_number())
      fail(result_path.string(), ": \"val_loss\" must be a number");
    run.val_loss = result["val_loss"].get<double>();
    out << "verify run already trained: " << result_path.string() << "\n";
  } else {
    std::filesystem::create_directories(config.out_dir);
    const TrainOutcome outcome = train(config, out);
    run.exit_code = outcome.exit_code;
    if (outcome.exit_code != 0) return run;
    run.val_loss = outcome.last_val_loss;
    write_file_atomic(
        result_path,
        nlohmann::json{{"val_loss", run.val_loss}, {"steps", outcome.steps_done}}.dump(2) + "\n");
  }
  run.log = run_log(config);
  return run;
}

}  // namespace moeplan::verify
