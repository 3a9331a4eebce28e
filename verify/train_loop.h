#pragma once
// The training loop shared by both devices: data order, LR schedule, gradient accumulation,
// validation, JSON-lines log, progress reports, checkpoints, resume, SIGINT and divergence
// handling. Its parts are verify/training_run.h (setup, one step, finish), training_data.h,
// training_outputs.h, training_report.h and divergence.h; this file drives them for one run.
#include <ostream>

#include "verify/backend.h"
#include "verify/divergence.h"
#include "verify/train_config.h"
#include "verify/training_run.h"

namespace moeplan::verify {

// Trains `backend` per `config` (resume/init included), writing status lines to `out`, until
// the last step, --stop-after or SIGINT (which finishes the step and saves).
// `config` must have passed config.validate() (train() validates; direct callers do it).
// Throws moeplan::Error on bad input and TrainingDiverged (verify/divergence.h) on divergence
// (NaN/Inf loss or gradient norm, or a loss spike: which one, the step, the LR and the last
// good checkpoint, which is left untouched).
TrainOutcome run_training(const TrainConfig& config, Backend& backend, std::ostream& out,
                          const TrainHooks& hooks = {});

// Validates `config`, checks memory, creates the backend for config.device, and runs
// run_training.
TrainOutcome train(const TrainConfig& config, std::ostream& out);
TrainOutcome train(const TrainConfig& config, std::ostream& out, const TrainHooks& hooks);

// Per-token training FLOPs used for MFU: 6·N_a + attention (law/flops.h).
double training_flops_per_token(const law::MoeArchitecture& arch);

}  // namespace moeplan::verify
