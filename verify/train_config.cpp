#include "verify/train_config.h"

#include <cmath>

#include "planner/architecture_json.h"
#include "planner/budget.h"
#include "util/error.h"
#include "util/json_text.h"

namespace moeplan::verify {

std::int64_t TrainConfig::total_steps() const {
  return std::max<std::int64_t>(1, (tokens + tokens_per_step() - 1) / tokens_per_step());
}

double TrainConfig::mfu_peak_flops() const {
  if (peak_flops > 0) return peak_flops;
  return device == "cuda" ? planner::gpu_peak_flops(kMfuGpu) : 0;
}

void check_device_name(const std::string& device) {
  if (device != "cpu" && device != "cuda")
    fail("--device must be 'cuda' or 'cpu', got '", device, "'");
}

void TrainConfig::validate() const {
  // Device and data source first: without a data source the vocabulary may be unknown (0), and
  // "give --data" is the error that helps then.
  check_device_name(device);
  if (random_data == !data_dir.empty())
    fail(random_data ? "give either --data or --random-data, not both"
                     : "give --data DIR (llm.c shards) or --random-data");
  law::validate(arch);
  if (tokens <= 0) fail("--tokens must be positive, got ", tokens);
  if (batch_sequences <= 0) fail("--batch must be positive, got ", batch_sequences);
  if (micro_batch_sequences < 0 || batch_sequences % micro_batch() != 0) {
    fail("--micro-batch ", micro_batch(), " must divide --batch ", batch_sequences);
  }
  if (!(peak_lr > 0)) fail("--lr must be positive, got ", peak_lr);
  if (!(warmup_fraction >= 0 && warmup_fraction < 1))
    fail("--warmup must be in [0, 1), got ", warmup_fraction);
  if (!(final_lr_fraction >= 0 && final_lr_fraction <= 1)) {
    fail("--final-lr-fraction must be in [0, 1], got ", final_lr_fraction);
  }
  if (!(adamw.weight_decay >= 0)) fail("--weight-decay must be >= 0, got ", adamw.weight_decay);
  if (val_tokens <= 0) fail("--val-tokens must be positive, got ", val_tokens);
  if (!write_checkpoints && checkpoint_every > 0)
    fail("--checkpoint-every needs checkpoints; not with --no-checkpoint");
  if (!(divergence_factor >= 0) || !std::isfinite(divergence_factor))
    fail("--divergence-factor must be >= 0 (0: off), got ", divergence_factor);
  if (eval_every < 0 || checkpoint_every < 0 || stop_after_steps < 0)
    fail("step intervals must be >= 0");
}

nlohmann::json TrainConfig::to_json() const {
  return {{"architecture", planner::architecture_to_json(arch)},
          {"data", random_data ? std::string("random") : data_dir.string()},
          {"tokens", tokens},
          {"batch_sequences", batch_sequences},
          {"micro_batch_sequences", micro_batch()},
          {"tokens_per_step", tokens_per_step()},
          {"steps", total_steps()},
          {"peak_lr", peak_lr},
          {"warmup_fraction", warmup_fraction},
          {"final_lr_fraction", final_lr_fraction},
          {"adamw",
           {{"beta1", adamw.beta1},
            {"beta2", adamw.beta2},
            {"eps", adamw.eps},
            {"weight_decay", adamw.weight_decay},
            {"grad_clip", adamw.grad_clip}}},
          {"val_tokens", val_tokens},
          {"seed", seed},
          {"device", device}};
}

void check_resume_settings(const TrainConfig& config, const std::string& saved_config_json,
                           const std::string& checkpoint) {
  if (saved_config_json.empty()) return;
  const auto saved = parse_json_text(saved_config_json, checkpoint + "'s train_config");
  const auto now = config.to_json();
  struct Setting {
    const char* key;
    const char* option;
  };
  std::string changed;
  for (const Setting s :
       {Setting{"steps", "steps (--tokens/--steps)"}, Setting{"batch_sequences", "--batch"},
        Setting{"peak_lr", "--lr"}, Setting{"warmup_fraction", "--warmup"},
        Setting{"final_lr_fraction", "--final-lr-fraction"}}) {
    if (!saved.is_object() || !saved.contains(s.key) || saved[s.key] == now[s.key]) continue;
    changed += std::string(changed.empty() ? "" : ", ") + s.option + " " +
               json_value_excerpt(saved[s.key]) + " -> " + json_value_excerpt(now[s.key]);
  }
  if (!changed.empty()) {
    fail("--resume ", checkpoint, ": ", changed,
         " would change the learning-rate schedule mid-run; resume with the checkpoint's "
         "settings, or start a new run from its weights with --init");
  }
}

}  // namespace moeplan::verify
