// `moeplan sweep`: trains a grid of small models over budgets, sparsities and sizes around a
// prior law's optimum (verify/sweep/), locally (several runs at once) or as a Slurm job array,
// and keeps the ledger SWEEP/runs.csv that `law fit` reads.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "law/law_json.h"
#include "planner/law_source.h"
#include "planner/recipe.h"
#include "util/error.h"
#include "util/units.h"
#include "verify/data/data_prepare.h"
#include "verify/sweep/bracketing.h"
#include "verify/sweep/grid_report.h"
#include "verify/sweep/run_list.h"
#include "verify/sweep/slurm_script.h"
#include "verify/sweep/sweep_dir.h"
#include "verify/sweep/sweep_runner.h"
#include "verify/cuda_library.h"
#include "verify/sweep/sweep_worker.h"
#include "verify/train_loop.h"

namespace moeplan::cli {
namespace {

// The sweep trains on the GPU when this moeplan has the CUDA trainer.
std::string default_device() {
  return verify::built_with_cuda() ? "cuda" : "cpu";
}

std::vector<double> parse_list(const std::string& text, const std::string& what,
                               double (*parse)(const std::string&, const std::string&)) {
  std::vector<double> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) values.push_back(parse(item, what));
  if (values.empty()) fail(what, " needs at least one value");
  return values;
}

double parse_fraction(const std::string& text, const std::string& what) {
  return parse_number(text, what);
}

std::string defaults_text(const std::vector<double>& values) {
  std::ostringstream o;
  for (std::size_t i = 0; i < values.size(); ++i) o << (i ? "," : "") << values[i];
  return o.str();
}

std::string number_text(double value) {
  return defaults_text({value});
}

void add_options(CommandSpec& spec) {
  const verify::SweepSetup d;
  spec.options.add_options()("data", po::value<std::string>(), "directory of llm.c shards")(
      "budgets", po::value<std::string>(), "FLOP budgets C, increasing, e.g. 1e13,3e13,1e14")(
      "out", po::value<std::string>(), "sweep directory SWEEP (sweep.json, runs.json, runs.csv)")(
      "sparsities", po::value<std::string>(),
      ("sparsities S, each E = K/(1-S) experts (default " +
       defaults_text(verify::default_sparsities()) + ")")
          .c_str())("top-k", po::value<std::string>(),
                    ("active experts K (default " + std::to_string(d.top_k) + ")").c_str())(
      "granularity", po::value<std::string>(),
      ("G: expert width 4*d_model/G (default " + std::to_string(d.granularity) + ")").c_str())(
      "sizes", po::value<std::string>(),
      ("model sizes per (C, S) cell, spanning about x8 around N* (default " +
       std::to_string(d.sizes) + ")")
          .c_str())(
      "law", po::value<std::string>(),
      (std::string("prior law (preset or law JSON) whose N*(C, S) centres the sizes (default ") +
       verify::kDefaultPriorLaw + ")")
          .c_str())("vocab", po::value<std::string>(),
                    "vocabulary (default: the data's manifest.json)")(
      "context", po::value<std::string>(),
      ("sequence length (default " + std::to_string(d.context) + ")").c_str())(
      "lr-scale", po::value<std::string>(),
      ("multiplies the DeepSeek peak LR (default " + number_text(d.lr_scale) + ")").c_str())(
      "min-steps", po::value<std::string>(),
      ("step floor: the batch shrinks to keep this many steps (default " +
       std::to_string(planner::kMinSteps) + ")")
          .c_str())(
      "val-tokens", po::value<std::string>(),
      ("held-out tokens per validation (default " + std::to_string(d.val_tokens) + ")").c_str())(
      "device", po::value<std::string>(),
      ("cuda or cpu (default " + default_device() + ")").c_str())(
      "seed", po::value<std::string>(),
      ("seed of every run's first attempt (default " + std::to_string(d.seed) + ")").c_str())(
      "seeds", po::value<std::string>(),
      "repeat each sparsity's median-budget central run with N other seeds (noise)")(
      "jobs", po::value<std::string>(),
      ("runs at once (default: what fits the free memory; on cpu at most the cores; with "
       "--emit-slurm the array's % limit, default " +
       std::to_string(verify::kDefaultSlurmConcurrency) + ")")
          .c_str())("dry-run", po::bool_switch(),
                    "print the runs and their recipes; train and write nothing")(
      "format", po::value<std::string>()->default_value("table"),
      "--dry-run output: table or json")(
      "emit-slurm", po::value<std::string>(),
      "write an sbatch job-array script of the runs not yet in the ledger instead of training")(
      "worker", po::bool_switch(), "train one run of SWEEP (with --index and --out)")(
      "index", po::value<std::string>(), "--worker: the run's index in SWEEP/runs.json");
}

verify::SweepSetup setup_from(const po::variables_map& vm) {
  verify::SweepSetup s;
  if (!vm.count("data")) fail("give --data DIR (llm.c shards)");
  if (!vm.count("budgets")) fail("give --budgets C1,C2,... (FLOPs)");
  s.data_dir = std::filesystem::absolute(vm["data"].as<std::string>()).lexically_normal();
  verify::check_sweep_data(s.data_dir);
  s.budgets_flops = parse_list(vm["budgets"].as<std::string>(), "--budgets", parse_positive);
  if (const auto v = option_whole(vm, "top-k")) s.top_k = *v;
  if (const auto v = option_whole(vm, "granularity")) s.granularity = *v;
  const std::vector<double> sparsities =
      vm.count("sparsities")
          ? parse_list(vm["sparsities"].as<std::string>(), "--sparsities", parse_fraction)
          : verify::default_sparsities();
  for (const double sparsity : sparsities)
    s.experts.push_back(verify::experts_for_sparsity(sparsity, s.top_k));
  if (const auto v = option_whole(vm, "sizes")) s.sizes = static_cast<int>(*v);
  s.prior_law = law::law_to_json(
      planner::load_law(option_text(vm, "law").value_or(verify::kDefaultPriorLaw)));
  const std::int64_t data_vocab = verify::manifest_vocab_size(s.data_dir);
  s.vocab_size = option_whole(vm, "vocab").value_or(data_vocab);
  if (s.vocab_size == 0)
    fail("give --vocab: ", s.data_dir.string(), " has no manifest.json to take it from");
  if (data_vocab > s.vocab_size)
    fail("--vocab ", s.vocab_size, " is below the data's vocabulary of ", data_vocab);
  if (const auto v = option_whole(vm, "context")) s.context = *v;
  if (const auto v = option_number(vm, "lr-scale", parse_positive)) s.lr_scale = *v;
  s.min_steps = option_whole(vm, "min-steps").value_or(planner::kMinSteps);
  if (const auto v = option_whole(vm, "val-tokens")) s.val_tokens = *v;
  s.device = option_text(vm, "device").value_or(default_device());
  verify::check_device_name(s.device);
  if (const auto v = option_whole(vm, "seed")) s.seed = static_cast<std::uint64_t>(*v);
  if (const auto v = option_whole(vm, "seeds")) s.repeat_seeds = static_cast<int>(*v);
  s.data_fingerprint = verify::data_fingerprint(s.data_dir);
  s.moeplan_version = MOEPLAN_VERSION;
  return s;
}

int run_worker(const po::variables_map& vm) {
  if (!vm.count("out") || !vm.count("index")) fail("--worker needs --index I and --out SWEEP");
  const double index_number = parse_number(vm["index"].as<std::string>(), "--index");
  if (index_number < 0 || index_number != std::floor(index_number))
    fail("--index must be a whole number >= 0, got ", vm["index"].as<std::string>());
  const auto index = static_cast<std::size_t>(index_number);
  const auto outcome =
      verify::run_sweep_worker(vm["out"].as<std::string>(), index, MOEPLAN_VERSION, std::cerr);
  switch (outcome.result) {
    case verify::WorkerResult::kInterrupted:
      std::cout << "run " << index << " interrupted; its checkpoint is kept\n";
      return verify::kExitInterrupted;
    case verify::WorkerResult::kClaimedElsewhere:
      std::cout << "run " << index << " is being trained by another worker\n";
      return 0;
    case verify::WorkerResult::kAlreadyDone:
    case verify::WorkerResult::kRecorded:
      std::cout << "run " << index << " " << outcome.row->key << ": "
                << verify::run_status_name(outcome.row->status) << "\n";
      return outcome.row->status == verify::RunStatus::kFailed ? 1 : 0;
  }
  return 1;
}

int dry_run(const po::variables_map& vm, const verify::SweepSetup& setup,
            const std::filesystem::path& sweep_dir) {
  const std::string format = vm["format"].as<std::string>();
  if (format != "table" && format != "json")
    fail("--format must be table or json, got '", format, "'");
  const std::vector<verify::SweepRun> runs = verify::check_sweep_dir(sweep_dir, setup);
  const auto ledger = verify::read_ledger(sweep_dir / verify::kLedgerFileName);
  const verify::GridReport report{setup, runs, ledger,
                                  verify::estimate_throughput(setup, runs, ledger)};
  std::cout << (format == "json" ? verify::grid_json(report).dump(2) + "\n"
                                 : verify::grid_table(report));
  return 0;
}

int emit_slurm(const po::variables_map& vm, const verify::SweepSetup& setup,
               const std::filesystem::path& sweep_dir) {
  const std::string file = vm["emit-slurm"].as<std::string>();
  check_output(file);
  std::vector<verify::SweepRun> runs = verify::open_sweep_dir(sweep_dir, setup);
  const auto ledger = verify::read_ledger(sweep_dir / verify::kLedgerFileName);
  const verify::BracketResult b = verify::bracket_runs(setup, runs, ledger);
  for (const std::string& m : b.messages) std::cerr << "bracketing: " << m << "\n";
  if (!b.added.empty()) runs = verify::append_runs(sweep_dir, b.added);
  verify::SlurmScriptOptions o;
  o.executable = std::filesystem::read_symlink("/proc/self/exe");
  o.sweep_dir = std::filesystem::absolute(sweep_dir).lexically_normal();
  o.device = setup.device;
  o.concurrency =
      static_cast<int>(option_whole(vm, "jobs").value_or(verify::kDefaultSlurmConcurrency));
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const bool done = std::any_of(ledger.begin(), ledger.end(), [&](const verify::LedgerRow& r) {
      return r.key == runs[i].key && verify::is_final(r);
    });
    if (!done) o.indices.push_back(i);
  }
  const std::string script = verify::slurm_script(o);
  std::filesystem::create_directories(sweep_dir / "slurm");
  emit_output(file, script);
  std::cerr << "wrote " << file << ": " << o.indices.size() << " array tasks of " << runs.size()
            << " runs; submit with 'sbatch " << file << "'\n";
  return 0;
}

}  // namespace

int run_sweep(const std::vector<std::string>& args) {
  CommandSpec spec;
  spec.usage =
      "moeplan sweep --data DIR --budgets C1,C2,... --out SWEEP [options]\n"
      "       moeplan sweep ... --dry-run | --emit-slurm FILE\n"
      "       moeplan sweep --worker --index I --out SWEEP";
  spec.description =
      "Trains the grid a scaling-law fit needs (the paper's §5 at small scale): for each budget "
      "and sparsity, a few\n"
      "model sizes spanning about x8 around the prior law's optimum N*(C, S), each with the\n"
      "recipe rule (DeepSeek batch and LR, at least --min-steps steps, warm-up 5%, cosine to\n"
      "10%). Several runs train at once; SWEEP/runs.csv gets one row per finished run (law fit\n"
      "reads it). Rerunning the same command resumes; cells whose best size is at the edge get\n"
      "one more size (bracketing). --emit-slurm writes a job-array script instead.";
  add_options(spec);
  const auto parsed = parse_command(spec, args);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (vm["worker"].as<bool>()) return run_worker(vm);
  if (!vm.count("out")) fail("give --out SWEEP, the sweep's directory");
  exclusive(vm, "dry-run", "emit-slurm");
  const std::filesystem::path sweep_dir = vm["out"].as<std::string>();
  const verify::SweepSetup setup = setup_from(vm);
  if (vm["dry-run"].as<bool>()) return dry_run(vm, setup, sweep_dir);
  if (vm.count("emit-slurm")) return emit_slurm(vm, setup, sweep_dir);
  verify::open_sweep_dir(sweep_dir, setup);
  verify::RunnerOptions o;
  o.sweep_dir = std::filesystem::absolute(sweep_dir).lexically_normal();
  o.executable = std::filesystem::read_symlink("/proc/self/exe");
  o.jobs = static_cast<int>(option_whole(vm, "jobs").value_or(0));
  o.terminal = ::isatty(STDERR_FILENO) != 0;
  return verify::run_sweep_runner(o, std::cerr);
}

}  // namespace moeplan::cli
