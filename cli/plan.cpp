// moeplan plan: the compute-optimal MoE for a FLOP budget and a memory cap (SPEC §3).
#include "planner/plan.h"

#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "planner/export.h"
#include "planner/law_source.h"
#include "planner/plots.h"
#include "planner/report.h"
#include "planner/slices.h"
#include "util/error.h"
#include "util/text.h"
#include "util/units.h"

namespace moeplan::cli {
namespace {

using planner::PlanRequest;

double fraction(const po::variables_map& vm, const char* name, double fallback) {
  const auto t = option_text(vm, name);
  if (!t) return fallback;
  const double x = parse_number(*t, std::string("--") + name);
  if (x < 0 || x >= 1) fail("--", name, " must be in [0, 1), got ", quoted_excerpt(*t));
  return x;
}

CommandSpec plan_spec() {
  CommandSpec spec;
  spec.usage =
      "moeplan plan (--budget FLOPS | --gpu-hours H (--gpu NAME | --gpu-flops X)) [options]";
  spec.description =
      "Plans the Mixture-of-Experts model with the lowest predicted loss (Abnar et al. 2025, Eq. "
      "6)\n"
      "for a training budget, under a memory cap and sparsity bounds: the continuous optimum,\n"
      "the concrete architecture (exact parameter counts), the Pareto alternatives, FLOPs, a\n"
      "training recipe and the memory breakdown. --params N gives the optimal sparsity at a fixed\n"
      "size (Fig. 4); --sparsity S the optimal size at a fixed sparsity (Fig. 2b/c).\n"
      "Without a memory cap the law prefers S->1 and N->inf: give --memory, --gpus with\n"
      "--gpu-memory, or --max-params. See moeplan-plan(1).";
  auto add = spec.options.add_options();
  add("budget", po::value<std::string>(), "training budget C in FLOPs, e.g. 1e21");
  add("gpu-hours", po::value<std::string>(), "derive C = H x 3600 x peak x MFU from GPU-hours");
  add("gpu", po::value<std::string>(), "GPU for the peak: h100 h200 a100 b200 mi300x l40s");
  add("gpu-flops", po::value<std::string>(), "peak dense FLOP/s per GPU instead of --gpu");
  add("mfu", po::value<std::string>(), "model FLOPs utilisation for --gpu-hours (default 0.4)");
  add("memory", po::value<std::string>(), "memory cap of one device/pool, e.g. 640GiB");
  add("gpus", po::value<std::string>(), "number of data-parallel devices (with --gpu-memory)");
  add("gpu-memory", po::value<std::string>(), "memory per device, e.g. 80GiB");
  add("zero", po::value<std::string>(), "ZeRO stage 0|1|2|3 for sharding over --gpus (default 3)");
  add("max-params", po::value<std::string>(), "cap on total parameters N, e.g. 2e10 or 20B");
  add("regime", po::value<std::string>(),
      "memory regime: train-mixed-adamw (18 B/param, default) | train-bf16-grads (16) | "
      "inference-bf16 (2)");
  add("micro-batch", po::value<std::string>(), "sequences per device for activations (default 1)");
  add("law", po::value<std::string>(), "law preset or law JSON file (default abnar2025)");
  add("min-sparsity", po::value<std::string>(), "lower sparsity bound (default 0)");
  add("max-sparsity", po::value<std::string>(), "upper sparsity bound (default 0.98)");
  add("params", po::value<std::string>(), "fix total parameters N: optimal sparsity S*(N; C)");
  add("params-tolerance", po::value<std::string>(),
      "relative tolerance on N for --params architectures (default 0.05)");
  add("sparsity", po::value<std::string>(), "fix sparsity S: optimal N*(S; C) and N_a*(S; C)");
  add("vocab", po::value<std::string>(), "vocabulary size (default 50432)");
  add("context", po::value<std::string>(), "context length (default 2048)");
  add("flops", po::value<std::string>(), "FLOPs per token: 6NaD (default) | eq9 | eq9+router");
  add("aspect-ratio", po::value<std::string>(), "d_model / n_layers (default 128)");
  add("d-model", po::value<std::string>(), "fix d_model");
  add("layers", po::value<std::string>(), "fix the number of layers");
  add("heads", po::value<std::string>(), "fix the number of heads");
  add("head-dim", po::value<std::string>(),
      "fix the head width (default 128 for d_model >= 1024, else 64)");
  add("experts", po::value<std::string>(), "fix the total experts E");
  add("top-k", po::value<std::string>(), "fix the active experts K (default K = G)");
  add("granularity", po::value<std::string>(), "fix the granularity G (default: search 1 2 4 8)");
  add("alternatives", po::value<std::string>(), "rows of the Pareto table (default 10)");
  add("format", po::value<std::string>(), "table (default) | json | markdown");
  add("output,o", po::value<std::string>(), "write the report to FILE (atomically)");
  add("export", po::value<std::string>(),
      "instead of the report, write the planned architecture as hf-config (a Hugging Face "
      "qwen3_moe config.json) or megatron (Megatron-LM pretrain_gpt.py arguments)");
  return spec;
}

planner::BudgetInput budget_input(const po::variables_map& vm) {
  planner::BudgetInput in;
  if (auto t = option_text(vm, "budget")) in.flops = parse_positive(*t, "--budget");
  in.gpu_hours = option_number(vm, "gpu-hours", parse_positive);
  in.gpu = option_text(vm, "gpu");
  in.gpu_flops = option_number(vm, "gpu-flops", parse_positive);
  if (auto m = option_number(vm, "mfu", parse_positive)) {
    if (!vm.count("gpu-hours")) fail("--mfu only applies with --gpu-hours");
    in.mfu = *m;
  }
  return in;
}

planner::MemoryCap memory_cap(const po::variables_map& vm) {
  planner::MemoryCap cap;
  exclusive(vm, "memory", "gpus");
  exclusive(vm, "memory", "gpu-memory");
  if (auto t = option_text(vm, "regime")) cap.setup.regime = law::parse_regime(*t);
  if (auto m = option_number(vm, "micro-batch", parse_positive)) cap.setup.micro_batch = *m;
  if (auto t = option_text(vm, "zero")) {
    if (*t != "0" && *t != "1" && *t != "2" && *t != "3")
      fail("--zero must be 0, 1, 2 or 3, got ", quoted_excerpt(*t));
    cap.setup.zero_stage = std::stoi(*t);
  }
  if (auto m = option_number(vm, "memory", parse_bytes)) cap.bytes_per_device = *m;
  if (vm.count("gpus") && !vm.count("gpu-memory")) fail("--gpus needs --gpu-memory SIZE");
  if (auto g = option_whole(vm, "gpus")) {
    if (*g > 1000000) fail("--gpus: too many devices: ", *g);
    cap.setup.devices = static_cast<int>(*g);
  }
  if (auto m = option_number(vm, "gpu-memory", parse_bytes)) cap.bytes_per_device = *m;
  cap.max_params = option_number(vm, "max-params", parse_count);
  return cap;
}

PlanRequest plan_request(const po::variables_map& vm) {
  PlanRequest r;
  r.budget = planner::resolve_budget(budget_input(vm));
  r.cap = memory_cap(vm);
  r.law = planner::load_law(option_text(vm, "law").value_or("abnar2025"));
  r.min_sparsity = fraction(vm, "min-sparsity", 0.0);
  r.max_sparsity = fraction(vm, "max-sparsity", planner::kDefaultMaxSparsity);
  if (r.min_sparsity > r.max_sparsity)
    fail("--min-sparsity ", r.min_sparsity, " is above --max-sparsity ", r.max_sparsity);
  exclusive(vm, "params", "sparsity");
  if (auto n = option_number(vm, "params", parse_count)) {
    r.mode = planner::PlanMode::kFixedParams;
    r.target_params = *n;
  }
  if (auto t = option_number(vm, "params-tolerance", parse_positive)) {
    if (r.mode != planner::PlanMode::kFixedParams) fail("--params-tolerance needs --params");
    r.params_tolerance = *t;
  }
  if (vm.count("sparsity")) {
    r.mode = planner::PlanMode::kFixedSparsity;
    r.target_sparsity = fraction(vm, "sparsity", 0.0);
  }
  if (auto v = option_whole(vm, "vocab")) r.shape.vocab_size = *v;
  if (auto c = option_whole(vm, "context")) r.shape.context = *c;
  if (auto t = option_text(vm, "flops")) r.flops_method = law::parse_flops_method(*t);
  if (auto a = option_number(vm, "aspect-ratio", parse_positive)) r.shape.aspect_ratio = *a;
  r.shape.n_layers = option_whole(vm, "layers");
  r.shape.n_heads = option_whole(vm, "heads");
  r.shape.head_dim = option_whole(vm, "head-dim");
  r.overrides.d_model = option_whole(vm, "d-model");
  r.overrides.experts = option_whole(vm, "experts");
  r.overrides.top_k = option_whole(vm, "top-k");
  r.overrides.granularity = option_whole(vm, "granularity");
  if (auto a = option_whole(vm, "alternatives")) {
    if (*a > 1000) fail("--alternatives must be at most 1000, got ", *a);
    r.alternatives = static_cast<int>(*a);
  }
  planner::validate(r);
  return r;
}

// The DeepSeek-law recipe of the report, in the units Megatron-LM takes.
planner::ExportRecipe megatron_recipe(const planner::PlanResult& plan, const PlanRequest& request) {
  planner::ExportRecipe recipe;
  recipe.peak_lr = plan.recipe.deepseek_peak_lr;
  recipe.min_lr = plan.recipe.deepseek_peak_lr * plan.recipe.final_lr_fraction;
  recipe.global_batch_sequences = plan.recipe.deepseek.batch_sequences;
  recipe.micro_batch_sequences = static_cast<std::int64_t>(request.cap.setup.micro_batch);
  recipe.train_steps = plan.recipe.deepseek.steps;
  recipe.warmup_steps = plan.recipe.deepseek.warmup_steps;
  return recipe;
}

}  // namespace

int run_plan(const std::vector<std::string>& args) {
  CommandSpec spec = plan_spec();
  const auto vm = parse_command(spec, args);
  if (!vm) return 0;
  const std::string format = option_text(*vm, "format").value_or("table");
  if (format != "table" && format != "json" && format != "markdown")
    fail("--format must be table, json or markdown, got ", quoted_excerpt(format));
  const std::string output = option_text(*vm, "output").value_or("");
  const auto export_format = option_text(*vm, "export");
  if (export_format) {
    if (*export_format != "hf-config" && *export_format != "megatron")
      throw Error(unknown_name_message("export format", *export_format, {"hf-config", "megatron"}));
    if (vm->count("format")) fail("--export writes a config instead of the report: drop --format");
  }
  check_output(output);

  const PlanRequest request = plan_request(*vm);
  const planner::PlanResult plan = planner::make_plan(request);
  if (export_format) {
    emit_output(output, *export_format == "hf-config" ? planner::export_hf_config(
                                                            plan.chosen.architecture)
                                                      : planner::export_megatron_args(
                                                            plan.chosen.architecture,
                                                            megatron_recipe(plan, request)));
    return 0;
  }

  std::string report;
  if (format == "table") {
    report = planner::plan_table(plan);
  } else if (format == "json") {
    const planner::PlanSlices slices = planner::plan_slices(plan);
    report = planner::plan_to_json(plan, &slices).dump(2) + "\n";
  } else {
    const planner::PlanSlices slices = planner::plan_slices(plan);
    planner::PlotOutcome plots;
    if (output.empty() || output == "-")
      plots.note = "plots not rendered: give -o FILE.md to write them beside the report";
    else
      plots = planner::render_plots(plan, slices, output);
    report = planner::plan_markdown(plan, plots);
  }
  emit_output(output, report);
  return 0;
}

}  // namespace moeplan::cli
