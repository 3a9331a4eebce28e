#include "verify/training_outputs.h"

#include <bit>
#include <sstream>

#include "util/error.h"
#include "util/files.h"

namespace moeplan::verify {
namespace {

// Keeps the log's complete records of steps up to `step`; rewritten only when something goes.
void cut_log_back(const std::filesystem::path& log, std::int64_t step) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(log, ec)) return;  // none yet, or a device or a pipe
  std::istringstream in(read_file(log));
  std::string kept, line;
  bool dropped = false;
  while (std::getline(in, line)) {
    const auto record = nlohmann::json::parse(line, nullptr, false);
    const bool partial = in.eof() || !record.is_object();  // no newline, or cut mid-record
    const bool later = !partial && record.contains("step") && record["step"].is_number() &&
                       record["step"].get<double>() > static_cast<double>(step);
    if (partial || later) {
      dropped = true;
      continue;
    }
    kept += line + "\n";
  }
  if (dropped) write_file_atomic(log, kept);
}

// Keeps the dump's windows of the sequences consumed up to the checkpoint.
void cut_dump_back(const std::filesystem::path& dump, const TrainingState& state,
                   std::int64_t context) {
  const auto bytes = static_cast<std::uintmax_t>(state.data_position) *
                     static_cast<std::uintmax_t>(context + 1) * sizeof(std::int32_t);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dump, ec)) return;  // none yet, or a device or a pipe
  const auto size = std::filesystem::file_size(dump, ec);
  if (ec || size <= bytes) return;
  std::filesystem::resize_file(dump, bytes, ec);
  if (ec)
    fail("cannot cut the batch dump ", dump.string(), " back to its checkpoint: ", ec.message());
}

}  // namespace

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

void TrainingOutputs::open(bool resumed, const TrainingState& state) {
  if (resumed && !config_.log_path.empty()) cut_log_back(config_.log_path, state.step);
  if (resumed && !config_.dump_batches_path.empty())
    cut_dump_back(config_.dump_batches_path, state, config_.arch.context);
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
