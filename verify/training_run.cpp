#include "verify/training_run.h"

#include <chrono>
#include <cmath>
#include <sstream>

#include "planner/architecture_json.h"
#include "util/error.h"
#include "util/files.h"
#include "verify/divergence.h"
#include "verify/model_layout.h"
#include "verify/safetensors.h"
#include "verify/train_loop.h"

namespace moeplan::verify {

TrainingRun::TrainingRun(const TrainConfig& cfg, Backend& backend, std::ostream& out,
                         TrainHooks hooks)
    : config_(cfg),
      backend_(backend),
      out_(out),
      hooks_(std::move(hooks)),
      outputs_(cfg),  // outputs first: fail before any expensive work that could not be saved
      data_(cfg),
      steps_(cfg.total_steps()),
      schedule_{cfg.peak_lr, cfg.warmup_fraction, cfg.final_lr_fraction, steps_},
      eval_every_(cfg.eval_every > 0 ? cfg.eval_every : std::max<std::int64_t>(1, steps_ / 10)),
      micro_batches_(cfg.batch_sequences / cfg.micro_batch()),
      flops_per_token_(training_flops_per_token(cfg.arch)),
      peak_flops_(cfg.mfu_peak_flops()) {
  start_from_checkpoint_or_init();
  data_.start(state_.seed);
  outputs_.open(resumed_, state_);
  out_ << "training " << law::describe(cfg.arch) << " on " << cfg.device << ": " << steps_
       << " steps of " << cfg.tokens_per_step() << " tokens, "
       << parameter_count(parameter_layout(cfg.arch)) << " parameters\n";
  if (!resumed_) {
    stats_.first_val_loss = validate();
    stats_.last_val_loss = stats_.first_val_loss;
    state_.last_val_loss = stats_.first_val_loss;
    outputs_.write_record({{"step", 0}, {"tokens", 0}, {"val_loss", stats_.first_val_loss}});
    out_ << "step 0: val_loss " << stats_.first_val_loss << "\n";
  }
}

void TrainingRun::start_from_checkpoint_or_init() {
  state_.seed = config_.seed;
  const std::string train_config_json = config_.to_json().dump();
  state_.train_config_json = train_config_json;
  resumed_ = !config_.resume.empty();
  if (resumed_) {
    state_ = load_checkpoint(config_.resume, backend_);
    check_resume_settings(config_, state_.train_config_json,
                          checkpoint_file(config_.resume).string());
    outputs_.set_have_checkpoint();
    out_ << "resumed from " << checkpoint_file(config_.resume).string() << " at step "
         << state_.step << " (" << state_.tokens_seen << " tokens)\n";
  } else if (!config_.init.empty()) {
    backend_.set_parameters(load_initial_weights(config_.init, config_.arch));
  }
  if (!config_.save_init_path.empty()) {
    if (resumed_) fail("--save-init writes the weights before the first step; not with --resume");
    write_safetensors(config_.save_init_path, backend_.parameters(),
                      {{"format", "moeplan-weights-1"},
                       {"architecture", planner::architecture_to_json(config_.arch).dump()},
                       {"train_config", train_config_json}});
  }
}

bool TrainingRun::stop_requested() const {
  return config_.stop_after_steps > 0 && stats_.steps_this_run == config_.stop_after_steps &&
         state_.step < steps_;
}

LossParts TrainingRun::accumulate_gradients(std::vector<std::int32_t>* windows) {
  // Each micro-batch's share of the step: the loss scale of its gradients and of its losses.
  const double weight = 1.0 / static_cast<double>(micro_batches_);
  LossParts sum;
  for (std::int64_t m = 0; m < micro_batches_; ++m) {
    const TokenBatch batch = data_.batch(state_.data_position, config_.micro_batch());
    state_.data_position += config_.micro_batch();
    if (outputs_.dumping_batches()) TrainingOutputs::append_windows(batch, windows);
    const LossParts p = backend_.forward_backward(batch.view(), weight);
    sum.total += weight * p.total;
    sum.ce += weight * p.ce;
    sum.aux += weight * p.aux;
    sum.z += weight * p.z;
  }
  return sum;
}

void TrainingRun::diverged(const std::string& quantity, double value, double lr,
                           const std::string& detail) const {
  progress_end();
  throw_diverged(state_.step + 1, quantity, value, lr,
                 outputs_.have_checkpoint() ? outputs_.checkpoint_path() : std::filesystem::path(),
                 state_.step, detail);
}

void TrainingRun::check_loss(std::int64_t step_index, const LossParts& loss, double lr) {
  if (!std::isfinite(loss.total)) diverged("training loss", loss.total, lr);
  const double smoothed = smoothed_loss(smoothed_train_loss_, loss.ce);
  if (is_loss_spike(step_index, schedule_.warmup_steps(), smoothed, min_train_loss_,
                    config_.divergence_factor)) {
    std::ostringstream detail;
    detail << "the smoothed training loss " << smoothed << " is above " << config_.divergence_factor
           << " × its running minimum " << min_train_loss_ << " (--divergence-factor)";
    diverged("loss spike", smoothed, lr, detail.str());
  }
  smoothed_train_loss_ = smoothed;
}

void TrainingRun::step() {
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t step_index = state_.step;
  const double lr = schedule_.at(step_index);
  std::vector<std::int32_t> windows;  // this step's, for --dump-batches
  const LossParts loss = accumulate_gradients(&windows);
  check_loss(step_index, loss, lr);
  const double grad_norm = backend_.optimizer_step(config_.adamw, lr);
  if (!std::isfinite(grad_norm)) diverged("gradient norm", grad_norm, lr);
  min_train_loss_ = std::fmin(min_train_loss_, smoothed_train_loss_);
  state_.step = step_index + 1;
  state_.tokens_seen += config_.tokens_per_step();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (outputs_.dumping_batches()) outputs_.write_windows(windows);
  report_step(seconds, lr, grad_norm, loss);
  if (hooks_.after_step) hooks_.after_step(state_.step);
  if (config_.checkpoint_every > 0 && state_.step % config_.checkpoint_every == 0)
    outputs_.save(backend_, state_);
}

double TrainingRun::validate() {
  const auto start = std::chrono::steady_clock::now();
  const double loss = mean_validation_loss(backend_, data_.validation());
  stats_.validation_seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ++stats_.validations;
  return loss;
}

void TrainingRun::report_step(double seconds, double lr, double grad_norm, const LossParts& loss) {
  ++stats_.steps_this_run;
  stats_.train_seconds += seconds;
  stats_.step_seconds.push_back(seconds);
  stats_.last_loss = loss;
  stats_.last_grad_norm = grad_norm;
  stats_.last_lr = lr;
  nlohmann::json record{{"step", state_.step},
                        {"tokens", state_.tokens_seen},
                        {"train_loss", loss.ce},
                        {"loss_total", loss.total},
                        {"aux_loss", loss.aux},
                        {"z_loss", loss.z},
                        {"lr", lr},
                        {"grad_norm", grad_norm},
                        {"step_seconds", seconds},
                        {"tokens_per_s", stats_.tokens_per_second(config_.tokens_per_step())}};
  const bool evaluate = state_.step % eval_every_ == 0 || state_.step == steps_;
  if (evaluate) {
    stats_.last_val_loss = validate();
    record["val_loss"] = stats_.last_val_loss;
    state_.last_val_loss = stats_.last_val_loss;
  }
  state_.last_train_loss = loss.ce;
  outputs_.write_record(record);
  const std::string line =
      status_line(state_, steps_, stats_, evaluate, config_.tokens_per_step(), flops_per_token_,
                  peak_flops_, estimated_seconds_left(stats_, state_.step, steps_, eval_every_));
  TrainProgress report;
  report.step = state_.step;
  report.steps = steps_;
  report.line = line;
  report.lasting = evaluate;
  progress(report);
  if (evaluate) out_ << line << "\n" << std::flush;  // a lasting line
}

void TrainingRun::progress(const TrainProgress& report) const {
  if (hooks_.progress) hooks_.progress(report);
}

void TrainingRun::progress_end() const {
  TrainProgress report;
  report.step = state_.step;
  report.steps = steps_;
  report.end = true;
  progress(report);
}

TrainOutcome TrainingRun::finish(RunEnd how) {
  outputs_.save(backend_, state_);
  outputs_.keep();
  progress_end();
  TrainOutcome outcome;
  std::string exit;
  switch (how) {
    case RunEnd::kInterrupted:
      exit = "interrupted";
      outcome.exit_code = kExitInterrupted;
      out_ << "interrupted at step " << state_.step << ": ";
      if (config_.write_checkpoints) {
        out_ << "checkpoint saved to " << outputs_.checkpoint_path().string()
             << "; continue with --resume " << config_.out_dir.string() << "\n";
      } else {
        out_ << outputs_.checkpoint_note() << "\n";
      }
      break;
    case RunEnd::kStopped:
      exit = "stopped";
      out_ << "stopped after " << stats_.steps_this_run
           << " steps as asked: " << outputs_.checkpoint_note() << "\n";
      break;
    case RunEnd::kDone:
      exit = "done";
      out_ << "done: " << state_.step << " steps, " << state_.tokens_seen << " tokens, ";
      // The last step always validates: no loss means the checkpoint had already finished.
      if (std::isfinite(stats_.last_val_loss))
        out_ << "val_loss " << stats_.last_val_loss;
      else
        out_ << "nothing left to train (val_loss not measured)";
      out_ << "; " << outputs_.checkpoint_note() << "\n";
      break;
  }
  outcome.steps_done = state_.step;
  outcome.first_val_loss = stats_.first_val_loss;
  outcome.last_val_loss = stats_.last_val_loss;
  outcome.run_val_loss = state_.last_val_loss;
  outcome.run_train_loss = state_.last_train_loss;
  if (config_.write_checkpoints) outcome.checkpoint = outputs_.checkpoint_path();
  outcome.summary = training_summary(config_, state_, stats_, exit);
  if (!config_.summary_path.empty())
    write_file_atomic(config_.summary_path, outcome.summary.dump(1) + "\n");
  return outcome;
}

}  // namespace moeplan::verify
