#pragma once
// The files a training run writes besides its status lines: the checkpoint in --out, the
// JSON-lines --log and the --dump-batches windows (--save-init and --summary are written once,
// elsewhere, but checked here with the rest).
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "util/files.h"
#include "util/output_file.h"
#include "verify/backend.h"
#include "verify/checkpoint.h"
#include "verify/data/data_loader.h"
#include "verify/train_config.h"

namespace moeplan::verify {

class TrainingOutputs {
 public:
  // Creates the run directory (removed again if the run fails before writing anything into it)
  // and checks that every output can be written: fail before any
  // expensive work whose result could not be saved.
  explicit TrainingOutputs(const TrainConfig& config);

  // Opens the log and the batch dump: started afresh, or, when resuming from `state`, cut back
  // to it and appended to. A run killed after its checkpoint logged (and dumped) steps that the
  // resumed run does again, and a kill mid-write leaves a partial record: both are dropped, so
  // the files read as if the run had never stopped.
  void open(bool resumed, const TrainingState& state);
  // One log line, when --log is given. A line that cannot be written (a full disk) stops the
  // run with an Error naming the log, the cause, and the checkpoint to resume from.
  void write_record(const nlohmann::json& record);

  bool dumping_batches() const { return dump_.has_value(); }
  // One step's windows, int32 (batch, context+1): each sequence's inputs, then its last target.
  static void append_windows(const TokenBatch& batch, std::vector<std::int32_t>* windows);
  void write_windows(const std::vector<std::int32_t>& windows);

  // Saves the checkpoint (nothing with --no-checkpoint).
  void save(const Backend& backend, const TrainingState& state);
  // Whether a checkpoint exists that this run may fall back to (a resumed one counts).
  bool have_checkpoint() const { return have_checkpoint_; }
  void set_have_checkpoint() { have_checkpoint_ = true; }
  const std::filesystem::path& checkpoint_path() const { return checkpoint_path_; }
  // "checkpoint DIR/checkpoint.safetensors" or "no checkpoint (--no-checkpoint)".
  std::string checkpoint_note() const;
  // The run ended as asked (done, stopped, interrupted): its directory stays in any case.
  void keep() {
    if (run_directory_) run_directory_->keep();
  }

 private:
  const TrainConfig& config_;
  std::optional<CreatedDirectory> run_directory_;
  std::filesystem::path checkpoint_path_;
  bool have_checkpoint_ = false;
  std::optional<AppendFile> log_, dump_;
};

}  // namespace moeplan::verify
