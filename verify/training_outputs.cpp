#include "verify/training_outputs.h"

#include <bit>

#include "util/error.h"
#include "util/files.h"

namespace moeplan::verify {

TrainingOutputs::TrainingOutputs(const TrainConfig& cfg)
    : config_(cfg), checkpoint_path_(cfg.out_dir / kCheckpointFileName) {
  // Only checkpoints go into the run directory: none is made with --no-checkpoint.
  if (cfg.write_checkpoints) {
    run_directory_.emplace(cfg.out_dir, CreatedDirectory::Removal::kIfEmpty);
    check_writable(checkpoint_path_);
  }
  if (!cfg.log_path.empty()) check_writable(cfg.log_path);
  for (const auto* extra : {&cfg.summary_path, &cfg.dump_batches_path, &cfg.save_init_path})
    if (!extra->empty()) check_writable(*extra);
}

void TrainingOutputs::open(bool resumed) {
  const auto start = resumed ? AppendFile::Start::kAppend : AppendFile::Start::kTruncate;
  if (!config_.log_path.empty()) log_.emplace(config_.log_path, start);
  if (!config_.dump_batches_path.empty()) dump_.emplace(config_.dump_batches_path, start);
}

void TrainingOutputs::write_record(const nlohmann::json& record) {
  if (!log_) return;
  try {
    log_->stream() << record.dump() << "\n" << std::flush;
  } catch (const Error& e) {
    // The run cannot go on without its log, but what it saved stays usable: say so.
    fail(e.what(), "; training stopped at step ", record.value("step", std::int64_t{0}), ", ",
         have_checkpoint_ ? "resume from " + checkpoint_path_.string()
                          : std::string("no checkpoint written yet"));
  }
}
void TrainingOutputs::append_windows(const TokenBatch& b, std::vector<std::int32_t>* out) {
  for (std::int64_t r = 0; r < b.count; ++r) {
    const auto row = static_cast<std::size_t>(r * b.seq);
    out->insert(out->end(), b.inputs.begin() + static_cast<std::ptrdiff_t>(row),
                b.inputs.begin() + static_cast<std::ptrdiff_t>(row + b.seq));
    out->push_back(b.targets[row + static_cast<std::size_t>(b.seq) - 1]);
  }
}

void TrainingOutputs::write_windows(const std::vector<std::int32_t>& windows) {
  static_assert(std::endian::native == std::endian::little,
                "--dump-batches writes the host's int32");
  dump_->stream().write(reinterpret_cast<const char*>(windows.data()),
                        static_cast<std::streamsize>(windows.size() * sizeof(std::int32_t)));
  dump_->stream().flush();  // throws Error naming the dump and the cause
}

void TrainingOutputs::save(const Backend& backend, const TrainingState& state) {
  if (!config_.write_checkpoints) return;
  save_checkpoint(checkpoint_path_, backend, state);
  have_checkpoint_ = true;
}

std::string TrainingOutputs::checkpoint_note() const {
  return config_.write_checkpoints ? "checkpoint " + checkpoint_path_.string()
                                   : std::string("no checkpoint (--no-checkpoint)");
}

}  // namespace moeplan::verify
