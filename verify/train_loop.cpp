#include "verify/train_loop.h"

#include <unistd.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>

#include "law/flops.h"
#include "planner/report.h"
#include "util/error.h"
#include "util/files.h"
#include "util/units.h"
#include "verify/arch_json.h"
#include "verify/checkpoint.h"
#include "verify/data_loader.h"
#include "verify/data_prepare.h"
#include "verify/lr_schedule.h"
#include "verify/memory_check.h"
#include "verify/model_layout.h"
#include "verify/safetensors.h"

namespace moeplan::verify {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void on_sigint(int) {
  g_interrupted = 1;
}

// Installs the SIGINT handler for the loop's lifetime: ^C finishes the step and saves.
class SigintGuard {
 public:
  SigintGuard() {
    g_interrupted = 0;
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_);
  }
  ~SigintGuard() { sigaction(SIGINT, &previous_, nullptr); }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;

 private:
  struct sigaction previous_ {};
};

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(seconds + 0.5);
  std::ostringstream o;
  if (s >= 3600)
    o << s / 3600 << "h" << std::setw(2) << std::setfill('0') << (s / 60) % 60 << "m";
  else if (s >= 60)
    o << s / 60 << "m" << std::setw(2) << std::setfill('0') << s % 60 << "s";
  else
    o << s << "s";
  return o.str();
}

std::string format_rate(double tokens_per_second) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(1);
  if (tokens_per_second >= 1e6)
    o << tokens_per_second / 1e6 << "M";
  else if (tokens_per_second >= 1e3)
    o << tokens_per_second / 1e3 << "k";
  else
    o << tokens_per_second;
  return o.str() + " tok/s";
}

double mean_validation_loss(Backend& backend, const std::vector<TokenBatch>& batches) {
  double sum = 0;
  std::int64_t sequences = 0;
  for (const auto& b : batches) {
    sum += backend.evaluate(b.view()) * static_cast<double>(b.count);
    sequences += b.count;
  }
  return sum / static_cast<double>(sequences);
}

// --dump-batches: each sequence as its window of seq+1 tokens (inputs, then the last target).
void append_windows(const TokenBatch& b, std::vector<std::int32_t>* out) {
  for (std::int64_t r = 0; r < b.count; ++r) {
    const auto row = static_cast<std::size_t>(r * b.seq);
    out->insert(out->end(), b.inputs.begin() + static_cast<std::ptrdiff_t>(row),
                b.inputs.begin() + static_cast<std::ptrdiff_t>(row + b.seq));
    out->push_back(b.targets[row + static_cast<std::size_t>(b.seq) - 1]);
  }
}

// Throughput over the steps after the first min(3, n/2) of this invocation, whose times include
// start-up costs (allocations, cuBLAS/cuDNN plans, caches).
std::int64_t start_up_steps(std::size_t steps_this_run) {
  return std::min<std::int64_t>(3, static_cast<std::int64_t>(steps_this_run) / 2);
}

}  // namespace

double training_flops_per_token(const law::MoeArchitecture& a) {
  const double d = static_cast<double>(a.d_model);
  return law::six_na_plus_attention_flops_per_token(
      static_cast<double>(law::count_params(a).active), static_cast<double>(a.n_layers),
      static_cast<double>(a.context), d, d);
}

TrainOutcome run_training(const TrainConfig& cfg, Backend& backend, std::ostream& out,
                          const TrainHooks& hooks) {
  const law::MoeArchitecture& arch = cfg.arch;
  // Outputs first: fail before any expensive work whose result could not be saved.
  std::error_code ec;
  std::filesystem::create_directories(cfg.out_dir, ec);
  if (ec) fail("cannot create output directory ", cfg.out_dir.string(), ": ", ec.message());
  const auto checkpoint_path = cfg.out_dir / kCheckpointFileName;
  if (cfg.write_checkpoints) check_writable(checkpoint_path);
  if (!cfg.log_path.empty()) check_writable(cfg.log_path);

  for (const auto* extra : {&cfg.summary_path, &cfg.dump_batches_path, &cfg.save_init_path})
    if (!extra->empty()) check_writable(*extra);

  // Data: llm.c shards, or uniform random tokens (data_loader.h).
  std::optional<WindowSet> train_windows;
  std::vector<TokenBatch> val_batches;
  if (cfg.random_data) {
    val_batches = random_validation_batches(cfg.seed, cfg.val_tokens, arch.context, arch.vocab_size,
                                            cfg.micro_batch());
  } else {
    const std::int64_t data_vocab = manifest_vocab_size(cfg.data_dir);
    if (data_vocab > arch.vocab_size) {
      fail("the data in ", cfg.data_dir.string(), " uses a vocabulary of ", data_vocab,
           " tokens (manifest.json) but the model's vocab_size is ", arch.vocab_size,
           "; use --vocab ", data_vocab, " or more");
    }
    const auto train_shards = find_shards(cfg.data_dir, "train");
    if (train_shards.empty()) {
      fail("no training shards (*_train_*.bin) in ", cfg.data_dir.string(),
           "; make them with 'moeplan data prepare'");
    }
    const auto val_shards = find_shards(cfg.data_dir, "val");
    if (val_shards.empty()) fail("no validation shards (*_val_*.bin) in ", cfg.data_dir.string());
    val_batches =
        validation_batches(WindowSet(val_shards, arch.context, arch.vocab_size, "validation"),
                           cfg.val_tokens, cfg.micro_batch());
    train_windows.emplace(train_shards, arch.context, arch.vocab_size, "training");
  }

  // Starting point.
  TrainingState state;
  state.seed = cfg.seed;
  const std::string train_config_json = cfg.to_json().dump();
  state.train_config_json = train_config_json;
  const bool resumed = !cfg.resume.empty();
  if (resumed) {
    state = load_checkpoint(cfg.resume, backend);
    out << "resumed from " << checkpoint_file(cfg.resume).string() << " at step " << state.step
        << " (" << state.tokens_seen << " tokens)\n";
  } else if (!cfg.init.empty()) {
    backend.set_parameters(load_initial_weights(cfg.init, arch));
  }
  if (!cfg.save_init_path.empty()) {
    if (resumed) fail("--save-init writes the weights before the first step; not with --resume");
    write_safetensors(cfg.save_init_path, backend.parameters(),
                      {{"format", "moeplan-weights-1"},
                       {"architecture", planner::architecture_to_json(arch).dump()},
                       {"train_config", train_config_json}});
  }
  std::optional<TrainSampler> sampler;
  if (train_windows) sampler.emplace(std::move(*train_windows), state.seed);
  const auto next_batch = [&](std::int64_t position, std::int64_t count) {
    return sampler ? sampler->batch(position, count)
                   : random_batch(state.seed, kRandomTrainStream, position, count, arch.context,
                                  arch.vocab_size);
  };

  std::ofstream log;
  if (!cfg.log_path.empty()) {
    log.open(cfg.log_path, resumed ? std::ios::app : std::ios::trunc);
    if (!log) fail("cannot open the log file ", cfg.log_path.string());
  }
  const auto write_record = [&](const nlohmann::json& record) {
    if (log.is_open()) log << record.dump() << "\n" << std::flush;
  };
  std::ofstream dump;
  if (!cfg.dump_batches_path.empty()) {
    dump.open(cfg.dump_batches_path,
              std::ios::binary | (resumed ? std::ios::app : std::ios::trunc));
    if (!dump) fail("cannot open the batch dump ", cfg.dump_batches_path.string());
  }
  static_assert(std::endian::native == std::endian::little,
                "--dump-batches writes the host's int32");

  const std::int64_t steps = cfg.total_steps();
  const LrSchedule schedule{cfg.peak_lr, cfg.warmup_fraction, cfg.final_lr_fraction, steps};
  const std::int64_t eval_every =
      cfg.eval_every > 0 ? cfg.eval_every : std::max<std::int64_t>(1, steps / 10);
  const std::int64_t micro_batches = cfg.batch_sequences / cfg.micro_batch();
  // Each micro-batch's share of the step: the loss scale of its gradients and of its losses.
  const double micro_batch_weight = 1.0 / static_cast<double>(micro_batches);
  const double flops_per_token = training_flops_per_token(arch);
  const double peak_flops =
      cfg.peak_flops > 0 ? cfg.peak_flops : (cfg.device == "cuda" ? 989e12 : 0);

  TrainOutcome outcome;
  outcome.first_val_loss = std::numeric_limits<double>::quiet_NaN();
  if (cfg.write_checkpoints) outcome.checkpoint = checkpoint_path;
  out << "training " << law::describe(arch) << " on " << cfg.device << ": " << steps << " steps of "
      << cfg.tokens_per_step() << " tokens, " << parameter_count(parameter_layout(arch))
      << " parameters\n";
  if (!resumed) {
    outcome.first_val_loss = mean_validation_loss(backend, val_batches);
    outcome.last_val_loss = outcome.first_val_loss;
    write_record({{"step", 0}, {"tokens", 0}, {"val_loss", outcome.first_val_loss}});
    out << "step 0: val_loss " << outcome.first_val_loss << "\n";
  }
  bool have_checkpoint = resumed;
  const auto save = [&] {
    if (!cfg.write_checkpoints) return;
    save_checkpoint(checkpoint_path, backend, state);
    have_checkpoint = true;
  };
  const std::string checkpoint_note = cfg.write_checkpoints
                                          ? "checkpoint " + checkpoint_path.string()
                                          : std::string("no checkpoint (--no-checkpoint)");
  const auto diverged = [&](const std::string& what, double value, double lr) {
    if (cfg.progress) std::cerr << "\n";
    fail("training diverged at step ", state.step + 1, " (lr ", lr, "): the ", what, " is ", value,
         "; ",
         have_checkpoint ? "the last good checkpoint is " + checkpoint_path.string() + " (step " +
                               std::to_string(state.step) + " or earlier)"
                         : std::string("no checkpoint was written yet"),
         ". Try a lower --lr or a longer --warmup");
  };

  SigintGuard sigint;
  double train_seconds = 0;
  std::int64_t steps_this_run = 0;
  std::vector<double> step_seconds;  // of this invocation
  LossParts last_loss;
  double last_grad_norm = std::numeric_limits<double>::quiet_NaN();
  double last_lr = std::numeric_limits<double>::quiet_NaN();
  const auto finish = [&](const std::string& how) {
    outcome.steps_done = state.step;
    const std::int64_t skip = start_up_steps(step_seconds.size());
    double steady_seconds = 0;
    for (std::size_t i = static_cast<std::size_t>(skip); i < step_seconds.size(); ++i)
      steady_seconds += step_seconds[i];
    const auto rate = [&](std::int64_t n_steps, double seconds) {
      return seconds > 0 ? static_cast<double>(n_steps * cfg.tokens_per_step()) / seconds : 0.0;
    };
    const double tps = rate(steps_this_run, train_seconds);
    const double tps_steady = rate(steps_this_run - skip, steady_seconds);
    const auto mfu_of = [&](double tokens_per_second) -> nlohmann::json {
      if (peak_flops <= 0) return nullptr;
      return law::mfu(tokens_per_second, flops_per_token, peak_flops);
    };
    const auto counts = law::count_params(arch);
    outcome.summary = {
        {"exit", how},
        {"device", cfg.device},
        {"data", cfg.random_data ? std::string("random") : cfg.data_dir.string()},
        {"architecture", planner::architecture_to_json(arch)},
        {"parameters", counts.total},
        {"active_parameters", counts.active},
        {"steps", steps},
        {"steps_done", state.step},
        {"steps_this_run", steps_this_run},
        {"tokens_per_step", cfg.tokens_per_step()},
        {"tokens_seen", state.tokens_seen},
        {"train_seconds", train_seconds},
        {"tokens_per_s", tps},
        {"start_up_steps", skip},
        {"tokens_per_s_steady", tps_steady},
        {"flops_per_token", flops_per_token},
        {"peak_flops", peak_flops > 0 ? nlohmann::json(peak_flops) : nlohmann::json(nullptr)},
        {"mfu", mfu_of(tps)},
        {"mfu_steady", mfu_of(tps_steady)},
        {"first_val_loss", outcome.first_val_loss},
        {"last_val_loss", outcome.last_val_loss},
        {"last_train_loss", steps_this_run > 0 ? nlohmann::json(last_loss.ce) : nullptr},
        {"last_loss_total", steps_this_run > 0 ? nlohmann::json(last_loss.total) : nullptr},
        {"last_grad_norm", last_grad_norm},
        {"last_lr", last_lr}};
    if (!cfg.summary_path.empty())
      write_file_atomic(cfg.summary_path, outcome.summary.dump(1) + "\n");
  };
  for (std::int64_t step = state.step; step < steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    const double lr = schedule.at(step);
    LossParts sum;
    std::vector<std::int32_t> windows;  // this step's, for --dump-batches
    for (std::int64_t m = 0; m < micro_batches; ++m) {
      const TokenBatch batch = next_batch(state.data_position, cfg.micro_batch());
      state.data_position += cfg.micro_batch();
      if (dump.is_open()) append_windows(batch, &windows);
      const LossParts p = backend.forward_backward(batch.view(), micro_batch_weight);
      sum.total += micro_batch_weight * p.total;
      sum.ce += micro_batch_weight * p.ce;
      sum.aux += micro_batch_weight * p.aux;
      sum.z += micro_batch_weight * p.z;
    }
    if (!std::isfinite(sum.total)) diverged("training loss", sum.total, lr);
    const double grad_norm = backend.optimizer_step(cfg.adamw, lr);
    if (!std::isfinite(grad_norm)) diverged("gradient norm", grad_norm, lr);
    state.step = step + 1;
    state.tokens_seen += cfg.tokens_per_step();
    ++steps_this_run;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    train_seconds += seconds;
    step_seconds.push_back(seconds);
    last_loss = sum;
    last_grad_norm = grad_norm;
    last_lr = lr;
    if (dump.is_open()) {
      dump.write(reinterpret_cast<const char*>(windows.data()),
                 static_cast<std::streamsize>(windows.size() * sizeof(std::int32_t)));
      dump.flush();
      if (!dump) fail("cannot write the batch dump ", cfg.dump_batches_path.string());
    }
    const double tokens_per_second =
        static_cast<double>(steps_this_run * cfg.tokens_per_step()) / std::max(train_seconds, 1e-9);

    nlohmann::json record{{"step", state.step},
                          {"tokens", state.tokens_seen},
                          {"train_loss", sum.ce},
                          {"loss_total", sum.total},
                          {"aux_loss", sum.aux},
                          {"z_loss", sum.z},
                          {"lr", lr},
                          {"grad_norm", grad_norm},
                          {"step_seconds", seconds},
                          {"tokens_per_s", tokens_per_second}};
    const bool evaluate = state.step % eval_every == 0 || state.step == steps;
    if (evaluate) {
      outcome.last_val_loss = mean_validation_loss(backend, val_batches);
      record["val_loss"] = outcome.last_val_loss;
    }
    write_record(record);

    std::ostringstream line;
    line << "step " << state.step << "/" << steps << "  train_loss " << std::fixed
         << std::setprecision(4) << sum.ce;
    if (evaluate) line << "  val_loss " << outcome.last_val_loss;
    line << std::defaultfloat << std::setprecision(3) << "  lr " << lr << "  "
         << format_rate(tokens_per_second) << "  MFU ";
    if (peak_flops > 0) {
      line << std::fixed << std::setprecision(1)
           << 100 * law::mfu(tokens_per_second, flops_per_token, peak_flops) << "%";
    } else {
      line << "n/a";
    }
    line << "  ETA "
         << format_duration(static_cast<double>(steps - state.step) * train_seconds /
                            static_cast<double>(steps_this_run));
    if (evaluate) {  // a lasting line; on a terminal it replaces the progress line
      if (cfg.progress) std::cerr << "\r\033[K" << std::flush;
      out << line.str() << "\n" << std::flush;
    } else if (cfg.progress) {
      std::cerr << "\r" << line.str() << "\033[K" << std::flush;
    }

    if (hooks.after_step) hooks.after_step(state.step);
    if (cfg.checkpoint_every > 0 && state.step % cfg.checkpoint_every == 0) save();
    if (g_interrupted) {
      save();
      if (cfg.progress) std::cerr << "\n";
      out << "interrupted at step " << state.step << ": ";
      if (cfg.write_checkpoints) {
        out << "checkpoint saved to " << checkpoint_path.string() << "; continue with --resume "
            << cfg.out_dir.string() << "\n";
      } else {
        out << checkpoint_note << "\n";
      }
      outcome.exit_code = kExitInterrupted;
      finish("interrupted");
      return outcome;
    }
    if (cfg.stop_after_steps > 0 && steps_this_run == cfg.stop_after_steps && state.step < steps) {
      save();
      if (cfg.progress) std::cerr << "\n";
      out << "stopped after " << steps_this_run << " steps as asked: " << checkpoint_note << "\n";
      finish("stopped");
      return outcome;
    }
  }
  save();
  if (cfg.progress) std::cerr << "\n";
  out << "done: " << state.step << " steps, " << state.tokens_seen << " tokens, val_loss "
      << outcome.last_val_loss << "; " << checkpoint_note << "\n";
  finish("done");
  return outcome;
}

TrainOutcome train(const TrainConfig& config, std::ostream& out) {
  config.validate();
  check_memory_before_allocating(config.arch, config.micro_batch(), config.device);
  auto backend = config.device == "cpu" ? make_cpu_backend(config.arch, config.seed)
                                        : make_cuda_backend(config.arch, config.seed);
  return run_training(config, *backend, out);
}

}  // namespace moeplan::verify
