#pragma once
// Training checkpoints in safetensors: the weights under their parameter_layout() names, the
// AdamW moments as "adam_m.<name>" / "adam_v.<name>", and string metadata: format, step,
// optimizer_step, tokens_seen, data_position (training sequences consumed), seed (the data
// order's RNG: a pure function of seed and position, so these two are its whole state),
// last_val_loss and last_train_loss (when measured), architecture and train_config (JSON).
// Written atomically: the previous checkpoint survives a crash during the write.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "verify/backend.h"

namespace moeplan::verify {

inline constexpr const char* kCheckpointFormat = "moeplan-checkpoint-1";
inline constexpr const char* kCheckpointFileName = "checkpoint.safetensors";

struct TrainingState {
  std::int64_t step = 0;           // optimizer steps done
  std::int64_t tokens_seen = 0;    // training tokens consumed
  std::int64_t data_position = 0;  // training sequences consumed
  std::uint64_t seed = 0;
  std::string train_config_json;  // informative, as given at the start of the run
  // The last validation loss measured up to `step` and the training loss of `step`: a run killed
  // after its final checkpoint but before its results were recorded (a sweep's ledger row) still
  // has them when it is resumed with nothing left to train.
  std::optional<double> last_val_loss, last_train_loss;
};

void save_checkpoint(const std::filesystem::path& path, const Backend& backend,
                     const TrainingState& state);

// Loads weights and optimizer state into `backend`; throws when the checkpoint's architecture
// is not the backend's. `path` is a checkpoint file or a run directory holding one.
TrainingState load_checkpoint(const std::filesystem::path& path, Backend& backend);

// --init: weights by layout name from any safetensors file (a checkpoint, or a PyTorch
// state_dict saved with safetensors); other tensors are ignored, missing ones are an error.
std::vector<HostTensor> load_initial_weights(const std::filesystem::path& path,
                                             const law::MoeArchitecture& arch);

std::filesystem::path checkpoint_file(const std::filesystem::path& file_or_dir);

}  // namespace moeplan::verify
