#pragma once
// Training the verify model (and its neighbours) exactly as the sweep trained its runs:
// run_train_config() of the sweep setup, verify::train, the final held-out val loss. A finished
// run's result is kept in RUN/result.json so a rerun reports it without training; an unfinished
// one resumes from its checkpoint.
#include <filesystem>
#include <optional>
#include <ostream>

#include "law/architecture.h"
#include "verify/check/training_log.h"
#include "verify/sweep/sweep_setup.h"
#include "verify/train_config.h"

namespace moeplan::verify {

inline constexpr const char* kRunResultFileName = "result.json";

struct MeasuredRun {
  int exit_code = 0;  // verify::train's: 0 done, kExitInterrupted after SIGINT
  double val_loss = 0;
  std::optional<TrainingLog> log;  // the run's JSON-lines log, for the loss curve
};

// The configuration (resume set when RUN holds a checkpoint); the caller checks memory with it
// before committing to a prediction.
TrainConfig verify_train_config(const SweepSetup& setup, const law::MoeArchitecture& architecture,
                                double budget_flops, const std::filesystem::path& run_dir);

MeasuredRun train_verify_run(const TrainConfig& config, std::ostream& out);

}  // namespace moeplan::verify
