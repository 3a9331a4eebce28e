#include "verify/training_report.h"

#include <cmath>
#include <iomanip>
#include <sstream>

#include "law/flops.h"
#include "planner/architecture_json.h"
#include "util/units.h"
#include "verify/train_loop.h"

namespace moeplan::verify {

double RunStats::tokens_per_second(std::int64_t tokens_per_step) const {
  return static_cast<double>(steps_this_run * tokens_per_step) / std::max(train_seconds, 1e-9);
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

std::int64_t start_up_steps(std::size_t steps_this_run) {
  return std::min<std::int64_t>(3, static_cast<std::int64_t>(steps_this_run) / 2);
}

std::int64_t validations_left(std::int64_t step, std::int64_t steps, std::int64_t eval_every) {
  if (step >= steps) return 0;
  const std::int64_t at_multiples = steps / eval_every - step / eval_every;
  return at_multiples + (steps % eval_every != 0 ? 1 : 0);
}

double estimated_seconds_left(const RunStats& stats, std::int64_t step, std::int64_t steps,
                              std::int64_t eval_every) {
  const auto mean = [](double total, std::int64_t count) {
    return count > 0 ? total / static_cast<double>(count) : 0.0;
  };
  return static_cast<double>(steps - step) * mean(stats.train_seconds, stats.steps_this_run) +
         static_cast<double>(validations_left(step, steps, eval_every)) *
             mean(stats.validation_seconds, stats.validations);
}

std::string status_line(const TrainingState& state, std::int64_t steps, const RunStats& stats,
                        bool evaluated, std::int64_t tokens_per_step, double flops_per_token,
                        double peak_flops, double seconds_left) {
  const double tokens_per_second = stats.tokens_per_second(tokens_per_step);
  std::ostringstream line;
  line << "step " << state.step << "/" << steps << "  train_loss " << std::fixed
       << std::setprecision(4) << stats.last_loss.ce;
  if (evaluated) line << "  val_loss " << stats.last_val_loss;
  line << std::defaultfloat << std::setprecision(3) << "  lr " << stats.last_lr << "  "
       << format_rate(tokens_per_second) << "  MFU ";
  if (peak_flops > 0) {
    line << std::fixed << std::setprecision(1)
         << 100 * law::mfu(tokens_per_second, flops_per_token, peak_flops) << "%";
  } else {
    line << "n/a";
  }
  line << "  ETA " << format_duration(seconds_left);
  return line.str();
}

nlohmann::json training_summary(const TrainConfig& cfg, const TrainingState& state,
                                const RunStats& stats, const std::string& how) {
  const std::int64_t skip = start_up_steps(stats.step_seconds.size());
  double steady_seconds = 0;
  for (std::size_t i = static_cast<std::size_t>(skip); i < stats.step_seconds.size(); ++i)
    steady_seconds += stats.step_seconds[i];
  const auto rate = [&](std::int64_t n_steps, double seconds) {
    return seconds > 0 ? static_cast<double>(n_steps * cfg.tokens_per_step()) / seconds : 0.0;
  };
  const double tps = rate(stats.steps_this_run, stats.train_seconds);
  const double tps_steady = rate(stats.steps_this_run - skip, steady_seconds);
  const double flops_per_token = training_flops_per_token(cfg.arch);
  const double peak_flops = cfg.mfu_peak_flops();
  const auto mfu_of = [&](double tokens_per_second) -> nlohmann::json {
    if (peak_flops <= 0) return nullptr;
    return law::mfu(tokens_per_second, flops_per_token, peak_flops);
  };
  const bool stepped = stats.steps_this_run > 0;
  const auto counts = law::count_params(cfg.arch);
  return {{"exit", how},
          {"device", cfg.device},
          {"data", cfg.random_data ? std::string("random") : cfg.data_dir.string()},
          {"architecture", planner::architecture_to_json(cfg.arch)},
          {"parameters", counts.total},
          {"active_parameters", counts.active},
          {"steps", cfg.total_steps()},
          {"steps_done", state.step},
          {"steps_this_run", stats.steps_this_run},
          {"tokens_per_step", cfg.tokens_per_step()},
          {"tokens_seen", state.tokens_seen},
          {"train_seconds", stats.train_seconds},
          {"tokens_per_s", tps},
          {"start_up_steps", skip},
          {"tokens_per_s_steady", tps_steady},
          {"flops_per_token", flops_per_token},
          {"peak_flops", peak_flops > 0 ? nlohmann::json(peak_flops) : nlohmann::json(nullptr)},
          {"mfu", mfu_of(tps)},
          {"mfu_steady", mfu_of(tps_steady)},
          {"first_val_loss", stats.first_val_loss},
          {"last_val_loss", stats.last_val_loss},
          {"last_train_loss", stepped ? nlohmann::json(stats.last_loss.ce) : nullptr},
          {"last_loss_total", stepped ? nlohmann::json(stats.last_loss.total) : nullptr},
          {"last_grad_norm", stats.last_grad_norm},
          {"last_lr", stats.last_lr}};
}

}  // namespace moeplan::verify
