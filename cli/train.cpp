// `moeplan train`: trains a model of the paper's family on llm.c shards with the CUDA model or
// the CPU reference (verify/train_loop.h).
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "cli/commands.h"
#include "cli/options.h"
#include "util/error.h"
#include "util/files.h"
#include "util/text.h"
#include "util/units.h"
#include "verify/arch_json.h"
#include "verify/data_prepare.h"
#include "verify/memory_check.h"
#include "verify/train_config.h"
#include "verify/train_loop.h"
#ifdef MOEPLAN_HAVE_CUDA
#include "verify/cuda/device.h"
#endif

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
      fail(where, ": plan key \"", key, "\" must be a number, got ", quoted_excerpt(j[key].dump()));
    return &j[key];
  };
  const auto object = [&](const nlohmann::json& j, const char* key) -> const nlohmann::json* {
    if (!j.is_object() || !j.contains(key) || j[key].is_null()) return nullptr;
    if (!j[key].is_object())
      fail(where, ": plan key \"", key, "\" must be an object, got ",
           quoted_excerpt(j[key].dump()));
    return &j[key];
  };
  if (const auto* t = number(plan, "tokens")) {
    cfg->tokens = static_cast<std::int64_t>(t->get<double>());
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
      cfg->batch_sequences = std::max<std::int64_t>(1, b->get<std::int64_t>());
    }
  }
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
#ifdef MOEPLAN_HAVE_CUDA
  const cuda::DeviceInfo d = cuda::device_info();
  std::cout << "device: cuda\nname: " << d.name
            << "\nmemory: " << format_bytes(static_cast<double>(d.total_bytes)) << " ("
            << format_bytes(static_cast<double>(d.free_bytes)) << " free)"
            << "\ncompute capability: " << d.compute_capability / 10 << "."
            << d.compute_capability % 10 << "\ncudnn: " << d.cudnn_version << "\n";
#else
  fail("moeplan was built without CUDA (nvcc not found at configure time); use --device cpu");
#endif
}

}  // namespace

int run_train(const std::vector<std::string>& args) {
  CommandSpec spec;
  spec.usage =
      "moeplan train (--arch ARCH.json | --plan plan.json | --d-model D --layers L ...) "
      "(--data DIR | --random-data --vocab V) (--tokens N | --steps N) [--device cuda|cpu] "
      "[options]\n       moeplan train --info [--device cuda|cpu]";
  spec.description =
      "Trains the paper's MoE decoder (pre-RMSNorm, QK-norm, RoPE, top-K SwiGLU experts, Switch\n"
      "aux loss 0.02 and router z-loss 1e-3) on llm.c token shards (*_train_*.bin, *_val_*.bin)\n"
      "with AdamW(0.9, 0.95, eps 1e-8), linear warm-up then cosine decay to --final-lr-fraction "
      "of\n"
      "--lr, and gradient clipping. Writes DIR/checkpoint.safetensors (weights, AdamW state, data\n"
      "position) every --checkpoint-every steps, at the end and on Ctrl-C (exit 130); resumes "
      "with\n"
      "--resume. Stops with a diagnosis on a NaN/Inf loss or gradient norm, keeping the last good\n"
      "checkpoint. Refuses a model that does not fit the GPU's free memory (or the RAM on cpu).\n"
      "--random-data trains (and validates) on uniformly random tokens, for throughput.";
  spec.options.add_options()("arch", po::value<std::string>(),
                             "architecture JSON (a plan's \"architecture\" object)")(
      "plan", po::value<std::string>(),
      "plan JSON: its architecture, tokens and recipe as defaults")(
      "d-model", po::value<std::string>(), "model width (without --arch/--plan)")(
      "layers", po::value<std::string>(), "layers")(
      "heads", po::value<std::string>(), "attention heads (default d_model/64, at least 1)")(
      "experts", po::value<std::string>(), "experts per layer E (default 8)")(
      "top-k", po::value<std::string>(), "active experts K (default 1)")(
      "granularity", po::value<std::string>(), "G: expert width 4*d_model/G (default 1)")(
      "expert-hidden", po::value<std::string>(), "expert width, overriding 4*d_model/G")(
      "vocab", po::value<std::string>(), "vocabulary (default: the data's manifest.json)")(
      "context", po::value<std::string>(), "sequence length (default 256)")(
      "data", po::value<std::string>(), "directory of llm.c shards")(
      "random-data", po::bool_switch(),
      "uniform random tokens (seeded) instead of --data, for benchmarks; needs --vocab")(
      "tokens", po::value<std::string>(),
      "training tokens, e.g. 50M (steps = tokens / batch tokens)")(
      "steps", po::value<std::string>(), "optimizer steps instead of --tokens (tokens = N*B*T)")(
      "device", po::value<std::string>()->default_value("cuda"), "cuda or cpu")(
      "batch", po::value<std::string>(), "sequences per optimizer step (default 8)")(
      "micro-batch", po::value<std::string>(),
      "sequences per forward/backward (gradient accumulation)")(
      "lr", po::value<std::string>(), "peak learning rate (default 2e-3)")(
      "warmup", po::value<std::string>(), "warm-up fraction of the steps (default 0.05)")(
      "final-lr-fraction", po::value<std::string>()->default_value("0.1"), "final LR / peak LR")(
      "weight-decay", po::value<std::string>()->default_value("1e-5"),
      "AdamW decoupled weight decay")("grad-clip", po::value<std::string>()->default_value("1.0"),
                                      "global gradient-norm clip (0: off)")(
      "eval-every", po::value<std::string>(),
      "steps between validation losses (default: 10 per run)")(
      "val-tokens", po::value<std::string>()->default_value("65536"),
      "held-out tokens per validation")("checkpoint-every", po::value<std::string>(),
                                        "steps between checkpoints (default: at the end)")(
      "out", po::value<std::string>()->default_value("moeplan-run"),
      "run directory for checkpoints")("log", po::value<std::string>(), "JSON-lines log file")(
      "summary", po::value<std::string>(),
      "JSON file with tokens/s, MFU and final losses, written at the end")(
      "dump-batches", po::value<std::string>(),
      "write every step's token windows: int32 little-endian (steps, batch, context+1)")(
      "save-init", po::value<std::string>(),
      "write the initial weights (safetensors) before the first step")(
      "resume", po::value<std::string>(), "continue from a checkpoint file or run directory")(
      "init", po::value<std::string>(), "start from these safetensors weights")(
      "seed", po::value<std::string>()->default_value("1"),
      "seed of the initial weights and data order")(
      "peak-flops", po::value<std::string>(),
      "device peak FLOP/s for MFU (default 989e12 on cuda)")(
      "stop-after", po::value<std::string>(),
      "end this invocation after this many steps (checkpointed)")(
      "no-checkpoint", po::bool_switch(),
      "write no checkpoint (benchmarks: saves the time and disk; no resume)")(
      "info", po::bool_switch(), "print the device (--device) and exit");
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

  law::MoeArchitecture& a = cfg.arch;
  const bool from_file = vm.count("arch") || vm.count("plan");
  // A plan is parsed once: the architecture and the recipe come from the same document.
  std::optional<nlohmann::json> plan;
  if (vm.count("plan")) plan = verify::read_json_file(vm["plan"].as<std::string>());
  if (plan) {
    a = verify::architecture_from_document(*plan, vm["plan"].as<std::string>());
  } else if (from_file) {
    a = verify::read_architecture_file(vm["arch"].as<std::string>());
  } else {
    if (!vm.count("d-model") || !vm.count("layers")) {
      fail("give the model as --arch ARCH.json, --plan plan.json, or --d-model and --layers");
    }
    a.d_model = *option_whole(vm, "d-model");
    a.n_layers = *option_whole(vm, "layers");
    a.n_heads = std::max<std::int64_t>(1, a.d_model / 64);
    a.experts = 8;
    a.active_experts = 1;
    a.granularity = 1;
    a.context = 256;
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

  bool have_tokens = false;
  if (plan) apply_plan_recipe(*plan, vm["plan"].as<std::string>(), &cfg, &have_tokens);
  if (vm.count("tokens")) {
    cfg.tokens = static_cast<std::int64_t>(parse_count(vm["tokens"].as<std::string>(), "--tokens"));
    have_tokens = true;
  }
  if (const auto v = option_whole(vm, "batch")) cfg.batch_sequences = *v;
  if (vm.count("steps")) {
    cfg.tokens = *option_whole(vm, "steps") * cfg.tokens_per_step();  // exactly that many steps
    have_tokens = true;
  }
  if (!have_tokens) fail("give --tokens N or --steps N, the length of the training run");
  if (const auto v = option_whole(vm, "micro-batch")) cfg.micro_batch_sequences = *v;
  if (vm.count("lr")) cfg.peak_lr = parse_positive(vm["lr"].as<std::string>(), "--lr");
  if (vm.count("warmup"))
    cfg.warmup_fraction = parse_number(vm["warmup"].as<std::string>(), "--warmup");
  cfg.final_lr_fraction =
      parse_number(vm["final-lr-fraction"].as<std::string>(), "--final-lr-fraction");
  cfg.adamw.weight_decay = parse_number(vm["weight-decay"].as<std::string>(), "--weight-decay");
  cfg.adamw.grad_clip = parse_number(vm["grad-clip"].as<std::string>(), "--grad-clip");
  if (const auto v = option_whole(vm, "eval-every")) cfg.eval_every = *v;
  cfg.val_tokens =
      static_cast<std::int64_t>(parse_count(vm["val-tokens"].as<std::string>(), "--val-tokens"));
  if (const auto v = option_whole(vm, "checkpoint-every")) cfg.checkpoint_every = *v;
  cfg.write_checkpoints = !vm["no-checkpoint"].as<bool>();
  cfg.out_dir = vm["out"].as<std::string>();
  if (vm.count("log")) cfg.log_path = vm["log"].as<std::string>();
  if (vm.count("summary")) cfg.summary_path = vm["summary"].as<std::string>();
  if (vm.count("dump-batches")) cfg.dump_batches_path = vm["dump-batches"].as<std::string>();
  if (vm.count("save-init")) cfg.save_init_path = vm["save-init"].as<std::string>();
  if (vm.count("resume")) cfg.resume = vm["resume"].as<std::string>();
  if (vm.count("init")) cfg.init = vm["init"].as<std::string>();
  const std::string seed = vm["seed"].as<std::string>();
  cfg.seed = seed == "0" ? 0 : static_cast<std::uint64_t>(parse_positive_int(seed, "--seed"));
  if (vm.count("peak-flops"))
    cfg.peak_flops = parse_positive(vm["peak-flops"].as<std::string>(), "--peak-flops");
  if (const auto v = option_whole(vm, "stop-after")) cfg.stop_after_steps = *v;
  cfg.progress = ::isatty(STDERR_FILENO) != 0;

  return verify::train(cfg, std::cout).exit_code;
}

}  // namespace moeplan::cli
