// `moeplan train`: trains a model of the paper's family on llm.c shards with the CUDA model or
// the CPU reference (verify/train_loop.h).
#include <unistd.h>

#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/options.h"
#include "planner/architecture_json.h"
#include "planner/budget.h"
#include "util/checked_count.h"
#include "util/error.h"
#include "util/files.h"
#include "util/json_text.h"
#include "util/text.h"
#include "util/units.h"
#include "verify/cuda_library.h"
#include "verify/data/data_prepare.h"
#include "verify/memory_check.h"
#include "verify/model_layout.h"
#include "verify/train_config.h"
#include "verify/train_loop.h"

namespace moeplan::cli {
namespace {

// Defaults from a parsed plan (planner/report_json.cpp): its "tokens" and its recipe's DeepSeek
// peak LR and batch, warm-up and final LR fractions, where present. A key that is present but
// neither a number nor null (what a NaN is written as) is an error naming it.
void apply_plan_recipe(const nlohmann::json& plan, const std::string& where,
                       verify::TrainConfig* cfg, bool* have_tokens) {
  const auto number = [&](const nlohmann::json& j, const char* key) -> const nlohmann::json* {
    if (!j.is_object() || !j.contains(key) || j[key].is_null()) return nullptr;
    if (!j[key].is_number())
      fail(where, ": plan key \"", key, "\" must be a number, got ", json_value_excerpt(j[key]));
    return &j[key];
  };
  const auto object = [&](const nlohmann::json& j, const char* key) -> const nlohmann::json* {
    if (!j.is_object() || !j.contains(key) || j[key].is_null()) return nullptr;
    if (!j[key].is_object())
      fail(where, ": plan key \"", key, "\" must be an object, got ", json_value_excerpt(j[key]));
    return &j[key];
  };
  // A count from the plan, checked before the conversion (1e30 converted to int64 is undefined).
  const auto count = [&](const nlohmann::json& j, const char* key) {
    const double value = j.get<double>();
    if (!(value >= 1 && value < static_cast<double>(std::numeric_limits<std::int64_t>::max())))
      fail(where, ": plan key \"", key, "\" must be a positive count below 2^63, got ",
           json_value_excerpt(j));
    return static_cast<std::int64_t>(value);
  };
  if (const auto* t = number(plan, "tokens")) {
    cfg->tokens = count(*t, "tokens");
    *have_tokens = true;
  }
  const auto* r = object(plan, "recipe");
  if (!r) return;
  if (const auto* w = number(*r, "warmup_fraction")) cfg->warmup_fraction = w->get<double>();
  if (const auto* f = number(*r, "final_lr_fraction")) cfg->final_lr_fraction = f->get<double>();
  const auto* ds = object(*r, "deepseek");
  if (!ds) return;
  if (const auto* lr = number(*ds, "peak_lr")) cfg->peak_lr = lr->get<double>();
  if (const auto* schedule = object(*ds, "schedule")) {
    if (const auto* b = number(*schedule, "batch_sequences")) {
      cfg->batch_sequences = count(*b, "batch_sequences");
    }
  }
}

// The model of the --d-model/--layers form when no --arch or --plan gives one.
constexpr std::int64_t kDefaultExperts = 8;
constexpr std::int64_t kDefaultTopK = 1;
constexpr std::int64_t kDefaultGranularity = 1;
constexpr std::int64_t kDefaultContext = 256;

std::string shown(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// The progress line on a terminal (stderr): each step's line overwrites the last; a lasting
// line, which the loop then prints to stdout, clears it; the end of the run leaves the line.
void draw_progress_line(const verify::TrainProgress& p) {
  if (p.end)
    std::cerr << "\n";
  else if (p.lasting)
    std::cerr << "\r\033[K" << std::flush;
  else
    std::cerr << "\r" << p.line << "\033[K" << std::flush;
}

// --info: what the run would train on.
void print_device_info(const std::string& device) {
  verify::check_device_name(device);
  if (device == "cpu") {
    std::cout << "device: cpu\nthreads: " << std::thread::hardware_concurrency()
              << "\nmemory available: " << format_bytes(verify::available_host_memory_bytes())
              << "\n";
    return;
  }
  const cuda::DeviceInfo d = verify::cuda_device_info();
  std::cout << "device: cuda\nname: " << d.name
            << "\nmemory: " << format_bytes(static_cast<double>(d.total_bytes)) << " ("
            << format_bytes(static_cast<double>(d.free_bytes)) << " free)"
            << "\ncompute capability: " << d.compute_capability / 10 << "."
            << d.compute_capability % 10 << "\ncudnn: " << d.cudnn_version << "\n";
}

CommandSpec train_spec() {
  CommandSpec spec;
  spec.usage =
      "moeplan train (--arch ARCH.json | --plan plan.json | --d-model D --layers L ...) "
      "(--data DIR | --random-data --vocab V) (--tokens N | --steps N) [--device cuda|cpu] "
      "[options]\n       moeplan train --info [--device cuda|cpu]";
  const verify::TrainConfig defaults;
  std::ostringstream description;
  description
      << "Trains the paper's MoE decoder (pre-RMSNorm, QK-norm, RoPE, top-K SwiGLU experts, "
         "Switch\n"
      << "aux loss " << verify::kAuxLossCoef << " and router z-loss " << verify::kZLossCoef
      << ") on llm.c token shards (*_train_*.bin, *_val_*.bin)\nwith AdamW(" << defaults.adamw.beta1
      << ", " << defaults.adamw.beta2 << ", eps " << defaults.adamw.eps
      << "), linear warm-up then cosine decay to --final-lr-fraction of\n"
         "--lr, and gradient clipping. Writes DIR/checkpoint.safetensors (weights, AdamW state, "
         "data\n"
         "position) every --checkpoint-every steps, at the end and on Ctrl-C (exit "
      << verify::kExitInterrupted
      << "); resumes with\n"
         "--resume. Stops with a diagnosis on a NaN/Inf loss or gradient norm (or, with\n"
         "--divergence-factor, a loss spike), keeping the last good checkpoint. Refuses a model\n"
         "that does not fit the GPU's free memory (or the RAM on cpu).\n"
         "--random-data trains (and validates) on uniformly random tokens, for throughput.";
  spec.description = description.str();
  const auto with_default = [](const std::string& what, const auto& value) {
    std::ostringstream text;
    text << what << " (default " << value << ")";
    return text.str();
  };
  auto add = spec.options.add_options();
  add("arch", po::value<std::string>(), "architecture JSON (a plan's \"architecture\" object)");
  add("plan", po::value<std::string>(),
      "plan JSON: its architecture, tokens and recipe as defaults");
  add("d-model", po::value<std::string>(), "model width (without --arch/--plan)");
  add("layers", po::value<std::string>(), "layers");
  add("heads", po::value<std::string>(), "attention heads (default d_model/64, at least 1)");
  add("experts", po::value<std::string>(),
      with_default("experts per layer E", kDefaultExperts).c_str());
  add("top-k", po::value<std::string>(), with_default("active experts K", kDefaultTopK).c_str());
  add("granularity", po::value<std::string>(),
      with_default("G: expert width 4*d_model/G", kDefaultGranularity).c_str());
  add("expert-hidden", po::value<std::string>(), "expert width, overriding 4*d_model/G");
  add("vocab", po::value<std::string>(), "vocabulary (default: the data's manifest.json)");
  add("context", po::value<std::string>(),
      with_default("sequence length", kDefaultContext).c_str());
  add("data", po::value<std::string>(), "directory of llm.c shards");
  add("random-data", po::bool_switch(),
      "uniform random tokens (seeded) instead of --data, for benchmarks; needs --vocab");
  add("tokens", po::value<std::string>(),
      "training tokens, e.g. 50M (steps = tokens / batch tokens)");
  add("steps", po::value<std::string>(), "optimizer steps instead of --tokens (tokens = N*B*T)");
  add("device", po::value<std::string>()->default_value(defaults.device), "cuda or cpu");
  add("batch", po::value<std::string>(),
      with_default("sequences per optimizer step", defaults.batch_sequences).c_str());
  add("micro-batch", po::value<std::string>(),
      "sequences per forward/backward (gradient accumulation)");
  add("lr", po::value<std::string>(), with_default("peak learning rate", defaults.peak_lr).c_str());
  add("warmup", po::value<std::string>(),
      with_default("warm-up fraction of the steps", defaults.warmup_fraction).c_str());
  // Given or not, --final-lr-fraction overrides a plan's recipe (as it always has).
  add("final-lr-fraction",
      po::value<std::string>()->default_value(shown(defaults.final_lr_fraction)),
      "final LR / peak LR");
  add("weight-decay", po::value<std::string>(),
      with_default("AdamW decoupled weight decay", defaults.adamw.weight_decay).c_str());
  add("grad-clip", po::value<std::string>(),
      with_default("global gradient-norm clip (0: off)", defaults.adamw.grad_clip).c_str());
  add("eval-every", po::value<std::string>(),
      "steps between validation losses (default: 10 per run)");
  add("val-tokens", po::value<std::string>(),
      with_default("held-out tokens per validation", defaults.val_tokens).c_str());
  add("checkpoint-every", po::value<std::string>(),
      "steps between checkpoints (default: at the end)");
  add("out", po::value<std::string>(),
      with_default("run directory for checkpoints", defaults.out_dir.string()).c_str());
  add("log", po::value<std::string>(), "JSON-lines log file");
  add("summary", po::value<std::string>(),
      "JSON file with tokens/s, MFU and final losses, written at the end");
  add("dump-batches", po::value<std::string>(),
      "write every step's token windows: int32 little-endian (steps, batch, context+1)");
  add("save-init", po::value<std::string>(),
      "write the initial weights (safetensors) before the first step");
  add("resume", po::value<std::string>(), "continue from a checkpoint file or run directory");
  add("init", po::value<std::string>(), "start from these safetensors weights");
  add("seed", po::value<std::string>(),
      with_default("seed of the initial weights and data order", defaults.seed).c_str());
  add("peak-flops", po::value<std::string>(),
      ("device peak FLOP/s for MFU (default on cuda: the " + std::string(verify::kMfuGpu) + "'s, " +
       format_sci(planner::gpu_peak_flops(verify::kMfuGpu)) + ")")
          .c_str());
  add("divergence-factor", po::value<std::string>(),
      with_default("stop as diverged when, after the warm-up, the training loss (smoothed over "
                   "about ten steps) exceeds this times its running minimum (0: off)",
                   defaults.divergence_factor)
          .c_str());
  add("stop-after", po::value<std::string>(),
      "end this invocation after this many steps (checkpointed)");
  add("no-checkpoint", po::bool_switch(),
      "write no checkpoint (benchmarks: saves the time and disk; no resume)");
  add("info", po::bool_switch(), "print the device (--device) and exit");
  return spec;
}

// The model: --arch, --plan (returned, for its recipe) or --d-model/--layers, then the
// overrides; the vocabulary from the data when not given.
std::optional<nlohmann::json> model_from_options(const po::variables_map& vm,
                                                 verify::TrainConfig* config) {
  verify::TrainConfig& cfg = *config;
  law::MoeArchitecture& a = cfg.arch;
  const bool from_file = vm.count("arch") || vm.count("plan");
  // A plan is parsed once: the architecture and the recipe come from the same document.
  std::optional<nlohmann::json> plan;
  if (vm.count("plan")) plan = planner::read_json_file(vm["plan"].as<std::string>());
  if (plan) {
    a = planner::architecture_from_document(*plan, vm["plan"].as<std::string>());
  } else if (from_file) {
    a = planner::read_architecture_file(vm["arch"].as<std::string>());
  } else {
    if (!vm.count("d-model") || !vm.count("layers")) {
      fail("give the model as --arch ARCH.json, --plan plan.json, or --d-model and --layers");
    }
    a.d_model = *option_whole(vm, "d-model");
    a.n_layers = *option_whole(vm, "layers");
    a.n_heads = std::max<std::int64_t>(1, a.d_model / 64);
    a.experts = kDefaultExperts;
    a.active_experts = kDefaultTopK;
    a.granularity = kDefaultGranularity;
    a.context = kDefaultContext;
    a.vocab_size = 0;
  }
  if (const auto v = option_whole(vm, "heads")) a.n_heads = *v;
  if (const auto v = option_whole(vm, "experts")) a.experts = *v;
  if (const auto v = option_whole(vm, "top-k")) a.active_experts = *v;
  if (const auto v = option_whole(vm, "context")) a.context = *v;
  if (const auto v = option_whole(vm, "vocab")) a.vocab_size = *v;
  if (vm.count("granularity") || !from_file) {
    if (const auto v = option_whole(vm, "granularity")) a.granularity = *v;
    a.expert_hidden = law::paper_expert_hidden(a.d_model, a.granularity);
  }
  if (const auto v = option_whole(vm, "expert-hidden")) a.expert_hidden = *v;
  // Without --data or --random-data the vocabulary stays 0 and cfg.validate() says what is
  // missing.
  if (a.vocab_size == 0 && (cfg.random_data || !cfg.data_dir.empty())) {
    if (cfg.random_data) fail("--random-data needs --vocab V (there is no data to take it from)");
    a.vocab_size = verify::manifest_vocab_size(cfg.data_dir);
    if (a.vocab_size == 0)
      fail("give --vocab: ", cfg.data_dir.string(), " has no manifest.json to take it from");
  }
  // The architecture, like the rest of cfg, is checked once by cfg.validate() in train().
  return plan;
}

// The run's length (--tokens, --steps or the plan's tokens) and batch, and the schedule.
void length_and_schedule_from_options(const po::variables_map& vm,
                                      const std::optional<nlohmann::json>& plan,
                                      verify::TrainConfig* config) {
  verify::TrainConfig& cfg = *config;
  bool have_tokens = false;
  if (plan) apply_plan_recipe(*plan, vm["plan"].as<std::string>(), &cfg, &have_tokens);
  if (vm.count("tokens")) {
    cfg.tokens = static_cast<std::int64_t>(parse_count(vm["tokens"].as<std::string>(), "--tokens"));
    have_tokens = true;
  }
  if (const auto v = option_whole(vm, "batch")) cfg.batch_sequences = *v;
  if (vm.count("steps")) {
    // Exactly that many steps; checked (util/checked_count.h): --steps 1e17 overflowed.
    const std::int64_t steps = *option_whole(vm, "steps");
    try {
      cfg.tokens = (CheckedCount(steps) * cfg.tokens_per_step()).value();
    } catch (const Error&) {
      fail("--steps ", steps, " of ", cfg.tokens_per_step(), " tokens each is past 2^63 tokens");
    }
    have_tokens = true;
  }
  if (!have_tokens) fail("give --tokens N or --steps N, the length of the training run");
  if (const auto v = option_whole(vm, "micro-batch")) cfg.micro_batch_sequences = *v;
  if (vm.count("lr")) cfg.peak_lr = parse_positive(vm["lr"].as<std::string>(), "--lr");
  if (vm.count("warmup"))
    cfg.warmup_fraction = parse_number(vm["warmup"].as<std::string>(), "--warmup");
  cfg.final_lr_fraction =
      parse_number(vm["final-lr-fraction"].as<std::string>(), "--final-lr-fraction");
}

// Optimizer, validation, outputs, checkpoints, seed and the rest.
void run_settings_from_options(const po::variables_map& vm, verify::TrainConfig* config) {
  verify::TrainConfig& cfg = *config;
  if (const auto t = option_text(vm, "weight-decay"))
    cfg.adamw.weight_decay = parse_number(*t, "--weight-decay");
  if (const auto t = option_text(vm, "grad-clip"))
    cfg.adamw.grad_clip = parse_number(*t, "--grad-clip");
  if (const auto v = option_whole(vm, "eval-every")) cfg.eval_every = *v;
  if (const auto t = option_text(vm, "val-tokens"))
    cfg.val_tokens = static_cast<std::int64_t>(parse_count(*t, "--val-tokens"));
  if (const auto v = option_whole(vm, "checkpoint-every")) cfg.checkpoint_every = *v;
  cfg.write_checkpoints = !vm["no-checkpoint"].as<bool>();
  if (vm.count("out")) cfg.out_dir = vm["out"].as<std::string>();
  if (vm.count("log")) cfg.log_path = vm["log"].as<std::string>();
  if (vm.count("summary")) cfg.summary_path = vm["summary"].as<std::string>();
  if (vm.count("dump-batches")) cfg.dump_batches_path = vm["dump-batches"].as<std::string>();
  if (vm.count("save-init")) cfg.save_init_path = vm["save-init"].as<std::string>();
  if (vm.count("resume")) cfg.resume = vm["resume"].as<std::string>();
  if (vm.count("init")) cfg.init = vm["init"].as<std::string>();
  if (const auto seed = option_text(vm, "seed"))
    cfg.seed = *seed == "0" ? 0 : static_cast<std::uint64_t>(parse_positive_int(*seed, "--seed"));
  if (vm.count("peak-flops"))
    cfg.peak_flops = parse_positive(vm["peak-flops"].as<std::string>(), "--peak-flops");
  if (const auto v = option_whole(vm, "stop-after")) cfg.stop_after_steps = *v;
  if (const auto f = option_text(vm, "divergence-factor"))
    cfg.divergence_factor = parse_number(*f, "--divergence-factor");
}

}  // namespace

int run_train(const std::vector<std::string>& args) {
  CommandSpec spec = train_spec();
  const auto parsed = parse_command(spec, args);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  verify::TrainConfig cfg;
  cfg.device = vm["device"].as<std::string>();  // checked by cfg.validate() in train()
  if (vm["info"].as<bool>()) {
    print_device_info(cfg.device);
    return 0;
  }
  exclusive(vm, "arch", "plan");
  exclusive(vm, "resume", "init");
  exclusive(vm, "resume", "save-init");
  exclusive(vm, "tokens", "steps");
  // --data XOR --random-data is checked by cfg.validate() in train().
  cfg.random_data = vm["random-data"].as<bool>();
  if (vm.count("data")) cfg.data_dir = vm["data"].as<std::string>();
  const auto plan = model_from_options(vm, &cfg);
  length_and_schedule_from_options(vm, plan, &cfg);
  run_settings_from_options(vm, &cfg);
  cfg.progress = ::isatty(STDERR_FILENO) != 0;

  verify::TrainHooks hooks;
  if (cfg.progress) hooks.progress = draw_progress_line;
  return verify::train(cfg, std::cout, hooks).exit_code;
}

}  // namespace moeplan::cli
