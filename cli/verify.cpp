// `moeplan verify`: checks a law fitted on a sweep by an extrapolation (SPEC §5, issue 9):
// plans at a larger budget, records the prediction with its interval before anything is
// trained, trains the planned model exactly as the sweep trained its runs (or takes a loss
// measured elsewhere), and gives the verdict.
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/options.h"
#include "law/fit_grid.h"
#include "law/law_json.h"
#include "util/error.h"
#include "util/files.h"
#include "util/format.h"
#include "util/hash.h"
#include "util/text.h"
#include "util/units.h"
#include "planner/architecture_json.h"
#include "verify/check/claims.h"
#include "verify/check/neighbors.h"
#include "verify/check/predict.h"
#include "verify/check/time_estimate.h"
#include "verify/check/verify_inputs.h"
#include "verify/check/verify_plan.h"
#include "verify/check/verify_plots.h"
#include "verify/check/verify_report.h"
#include "verify/check/verify_run.h"
#include "verify/memory_check.h"
#include "verify/train_loop.h"

namespace moeplan::cli {
namespace {

using verify::Prediction;

inline constexpr const char* kDefaultOutDir = "moeplan-verify";
inline constexpr const char* kRunDirName = "run";

struct VerifyOptions {
  std::filesystem::path sweep_dir, law_path, out_dir;
  bool out_given = false;
  std::optional<double> budget_flops, max_sparsity, measured_loss, time_limit_seconds;
  bool neighbors = false;
  std::optional<std::string> log_path, plan_path;
  double tolerance = verify::kDefaultTolerance;
  std::string format = "table", output;
  unsigned threads = 0;
};

CommandSpec verify_spec() {
  CommandSpec spec;
  spec.usage =
      "moeplan verify --sweep SWEEP/ --law LAW.json --budget FLOPS [--out VERIFY/] "
      "[options]";
  spec.description =
      "Checks a law fitted on a sweep (moeplan sweep; moeplan law fit SWEEP/runs.csv "
      "--bootstrap 100 -o LAW.json) at a larger, unseen budget: plans there with the fitted law "
      "in the sweep's setup (sparsity at most the largest swept one), writes VERIFY/"
      "prediction.json (plan, predicted loss, interval, hashes of its inputs) before training, "
      "trains the planned model as the sweep trained its runs and compares the final held-out "
      "loss. The interval is the law's bootstrap interval widened by a backtest and by the "
      "sweep's run-to-run noise. PASS (exit " +
      std::to_string(verify::kExitVerifyPass) +
      ") when the measured loss is within --tolerance of the prediction and inside the "
      "interval; FAIL exits " +
      std::to_string(verify::kExitVerifyFail) +
      "; errors exit 1. --measured-loss or --log compare a run trained elsewhere. See "
      "moeplan-verify(1).";
  auto add = spec.options.add_options();
  add("sweep", po::value<std::string>()->required(),
      "the sweep's directory (sweep.json, runs.csv)");
  add("law", po::value<std::string>()->required(),
      "law file from `law fit SWEEP/runs.csv --bootstrap N`");
  add("budget", po::value<std::string>(), "verify budget C in FLOPs, above the largest swept one");
  add("out", po::value<std::string>(),
      (std::string("directory of prediction.json and the verify run (default ") + kDefaultOutDir +
       ")")
          .c_str());
  add("max-sparsity", po::value<std::string>(),
      "upper sparsity bound (default: the largest swept)");
  add("tolerance", po::value<std::string>(),
      ("relative tolerance of the verdict (default " +
       format_number("%g", verify::kDefaultTolerance) + ")")
          .c_str());
  add("measured-loss", po::value<std::string>(), "a held-out loss measured elsewhere: no training");
  add("log", po::value<std::string>(),
      "a training log to take the final validation loss from (moeplan JSON lines or Megatron-LM "
      "text): no training");
  add("plan", po::value<std::string>(), "predict for this plan (`plan --format json`) instead");
  add("neighbors", po::bool_switch(),
      "also train the plan's neighbours (same K, half and twice the experts) and report whether "
      "the planned sparsity had the lowest loss");
  add("time-limit", po::value<std::string>(),
      "seconds the training here may take, estimated from the sweep's measured speed; over it: "
      "an error naming the budget that fits");
  add("format", po::value<std::string>(),
      "table (default) | json | markdown (with -o: plots beside the file, by gnuplot)");
  add("output,o", po::value<std::string>(), "write the report to FILE (atomically)");
  add("threads", po::value<std::string>(),
      "worker threads of the backtest refit (default: all cores)");
  return spec;
}

VerifyOptions read_options(const po::variables_map& vm) {
  VerifyOptions o;
  o.sweep_dir = vm["sweep"].as<std::string>();
  o.law_path = vm["law"].as<std::string>();
  o.out_given = vm.count("out") > 0;
  o.out_dir = o.out_given ? vm["out"].as<std::string>() : kDefaultOutDir;
  o.budget_flops = option_number(vm, "budget", parse_positive);
  o.max_sparsity = option_number(vm, "max-sparsity", parse_number);
  o.measured_loss = option_number(vm, "measured-loss", parse_positive);
  if (const auto t = option_number(vm, "tolerance", parse_positive)) o.tolerance = *t;
  o.log_path = option_text(vm, "log");
  o.plan_path = option_text(vm, "plan");
  exclusive(vm, "measured-loss", "log");
  o.neighbors = vm["neighbors"].as<bool>();
  o.time_limit_seconds = option_number(vm, "time-limit", parse_positive);
  if ((o.measured_loss || o.log_path) && (o.neighbors || o.time_limit_seconds))
    fail("--neighbors and --time-limit are about training here: not with --measured-loss or --log");
  if (const auto f = option_text(vm, "format")) o.format = *f;
  if (o.format != "table" && o.format != "json" && o.format != "markdown")
    throw Error(unknown_name_message("--format", o.format, {"table", "json", "markdown"}));
  if (const auto out = option_text(vm, "output")) o.output = *out;
  if (const auto t = option_whole(vm, "threads")) o.threads = static_cast<unsigned>(*t);
  if (!o.threads) o.threads = std::max(1u, std::thread::hardware_concurrency());
  return o;
}

std::string file_hash(const std::filesystem::path& path) {
  return hex64(fnv1a64(read_file(path)));
}

// Everything verify reads, checked: the refusals come before any output.
struct VerifyInputs {
  verify::SweepSetup setup;
  std::vector<verify::LedgerRow> rows;
  law::ScalingLaw law;
  nlohmann::json law_file;
  std::optional<nlohmann::json> plan;
  verify::PredictionInputs prediction_inputs;
};

VerifyInputs load_inputs(const VerifyOptions& o) {
  VerifyInputs in;
  in.setup = verify::read_sweep_setup(o.sweep_dir);
  const auto ledger_path = o.sweep_dir / verify::kLedgerFileName;
  if (!std::filesystem::exists(ledger_path))
    fail(ledger_path.string(), " does not exist: run `moeplan sweep` first");
  in.rows = verify::read_ledger(ledger_path);
  verify::check_ledger_matches_setup(in.rows, in.setup, ledger_path);
  in.law_file = planner::read_json_file(o.law_path);
  in.law = law::law_from_json(in.law_file, o.law_path.string());
  verify::require_bootstrap(in.law, o.law_path, o.sweep_dir);
  verify::check_law_fitted_on_ledger(in.law, in.rows, o.law_path);
  if (o.plan_path) in.plan = planner::read_json_file(*o.plan_path);
  double budget = 0;
  if (o.budget_flops)
    budget = *o.budget_flops;
  else if (in.plan && in.plan->contains("budget_flops") && (*in.plan)["budget_flops"].is_number())
    budget = (*in.plan)["budget_flops"].get<double>();
  else
    fail("give --budget FLOPS (the verify budget)");
  verify::check_verify_budget(budget, verify::largest_swept_budget(in.setup, in.rows));

  verify::PredictionInputs& p = in.prediction_inputs;
  p.law_file_hash = file_hash(o.law_path);
  p.ledger_hash = file_hash(ledger_path);
  p.sweep_hash = hex64(fnv1a64(in.setup.identity().dump()));
  p.plan_file_hash = o.plan_path ? file_hash(*o.plan_path) : "";
  p.budget_flops = budget;
  p.max_sparsity = o.max_sparsity.value_or(verify::largest_swept_sparsity(in.setup));
  p.tolerance = o.tolerance;
  return in;
}

// The backtest refits like the law's fit (form, fixed coefficients) from the coarse start grid
// (fit_law pins the fixed axes):
// the full grid takes a minute per refit on two cores.
law::FitSettings backtest_settings(const VerifyInputs& in, unsigned threads) {
  law::FitSettings s;
  s.form = in.law.form;
  s.fixed = verify::fixed_coefficients_of_law_file(in.law_file, s.form);
  s.starts = law::all_starts(law::coarse_grid(s.form));
  s.optimiser.threads = threads;
  return s;
}

Prediction new_prediction(const VerifyOptions& o, const VerifyInputs& in) {
  const auto request = verify::verify_plan_request(
      in.setup, in.law, in.prediction_inputs.budget_flops, in.prediction_inputs.max_sparsity);
  const planner::PlannedModel model =
      in.plan ? verify::describe_given_model(
                    planner::architecture_from_document(*in.plan, *o.plan_path), request)
              : verify::plan_verify_model(request);
  return verify::make_prediction(in.prediction_inputs, in.law, model, in.rows,
                                 backtest_settings(in, o.threads), MOEPLAN_VERSION);
}

// The models trained here: the prediction's, then with --neighbors its neighbours (predicted by
// the same law at the same budget), each in its own directory under VERIFY/.
std::vector<verify::MeasuredModel> models_to_train(const VerifyOptions& o, const VerifyInputs& in,
                                                   const Prediction& p) {
  // Each model is labelled with its architecture's S = (E − K)/E (Eq. 7); the law is evaluated at
  // the S it uses (a dense law's is 0), so two models may share a prediction but never a label.
  std::vector<verify::MeasuredModel> models = {
      {p.architecture, p.architecture.sparsity(), p.predicted_loss, std::nullopt, true}};
  if (!o.neighbors) return models;
  const auto request =
      verify::verify_plan_request(in.setup, in.law, p.inputs.budget_flops, p.inputs.max_sparsity);
  for (const auto& arch : verify::neighbor_architectures(p.architecture)) {
    const auto m = planner::describe_model(arch, request);
    models.push_back({arch, arch.sparsity(),
                      law::predict_loss(in.law, double(m.counts.total), m.tokens, m.sparsity),
                      std::nullopt, false});
  }
  return models;
}

std::filesystem::path run_dir(const VerifyOptions& o, const verify::MeasuredModel& m) {
  return m.planned ? o.out_dir / kRunDirName
                   : o.out_dir / ("neighbor-E" + std::to_string(m.architecture.experts));
}

// Checks memory and time, records the prediction, then trains every model; the planned model's
// measured loss, nullopt after an interrupt (the prediction and the checkpoints are kept).
std::optional<double> train_here(const VerifyOptions& o, const VerifyInputs& in,
                                 verify::VerifyReport& report) {
  const Prediction& p = report.prediction;
  auto models = models_to_train(o, in, p);
  std::vector<verify::TrainConfig> configs;
  for (const auto& m : models) {
    configs.push_back(verify::verify_train_config(in.setup, m.architecture, p.inputs.budget_flops,
                                                  run_dir(o, m)));
    verify::check_memory_before_allocating(m.architecture, configs.back().micro_batch(),
                                           configs.back().device);
  }
  if (o.time_limit_seconds) {
    const auto rate = verify::measured_flops_per_second(in.rows);
    if (!rate) fail("--time-limit: the sweep's ledger has no run times to estimate from");
    verify::check_time_limit(p.inputs.budget_flops * double(models.size()), *rate,
                             *o.time_limit_seconds);
  }
  std::filesystem::create_directories(o.out_dir);
  if (!report.prediction_reused) verify::write_prediction(report.prediction_path, p);
  std::cerr << "prediction recorded in " << report.prediction_path << "\n";
  for (std::size_t i = 0; i < models.size(); ++i) {
    std::cerr << "training " << law::describe(models[i].architecture) << " into "
              << configs[i].out_dir.string() << "\n";
    const auto run = verify::train_verify_run(configs[i], std::cerr);
    if (run.exit_code != 0) return std::nullopt;
    models[i].measured_loss = run.val_loss;
    if (models[i].planned) report.log = run.log;
  }
  report.measured_source = "trained here: " + configs.front().out_dir.string();
  if (o.neighbors) report.neighbors = models;
  return models.front().measured_loss;
}

std::string report_text(const VerifyOptions& o, const VerifyInputs& in,
                        const verify::VerifyReport& report) {
  if (o.format == "json") return verify::verify_report_json(report).dump(2) + "\n";
  if (o.format == "table") return verify::verify_report_table(report);
  planner::PlotOutcome plots;
  if (o.output.empty() || o.output == "-")
    plots.note = "plots are rendered beside a Markdown file: give -o REPORT.md";
  else
    plots = verify::render_verify_plots(report, in.law, in.rows, o.output);
  return verify::verify_report_markdown(report, plots);
}

}  // namespace

int run_verify(const std::vector<std::string>& args) {
  CommandSpec spec = verify_spec();
  const auto vm = parse_command(spec, args);
  if (!vm) return 0;
  const VerifyOptions o = read_options(*vm);
  check_output(o.output);
  const VerifyInputs in = load_inputs(o);

  verify::VerifyReport report;
  const bool measured_elsewhere = o.measured_loss || o.log_path;
  const auto prediction_path = o.out_dir / verify::kPredictionFileName;
  if (o.out_given || !measured_elsewhere) report.prediction_path = prediction_path.string();
  auto stored = report.prediction_path.empty()
                    ? std::nullopt
                    : verify::stored_prediction(prediction_path, in.prediction_inputs);
  report.prediction_reused = stored.has_value();
  report.prediction = stored ? *stored : new_prediction(o, in);

  double measured = 0;
  if (o.measured_loss) {
    measured = *o.measured_loss;
    report.measured_source = "--measured-loss";
  } else if (o.log_path) {
    report.log = verify::read_training_log(*o.log_path);
    measured = report.log->final_val_loss;
    report.measured_source = report.log->format + " log " + *o.log_path;
  } else {
    const auto loss = train_here(o, in, report);
    if (!loss) return verify::kExitInterrupted;
    measured = *loss;
  }
  if (measured_elsewhere && !report.prediction_path.empty() && !report.prediction_reused) {
    std::filesystem::create_directories(o.out_dir);
    verify::write_prediction(prediction_path, report.prediction);
  }
  report.claims = verify::check_paper_claims(in.rows);
  report.verdict = verify::judge(report.prediction.predicted_loss, report.prediction.interval,
                                 measured, report.prediction.inputs.tolerance);
  emit_output(o.output, report_text(o, in, report));
  return report.verdict->exit_code();
}

}  // namespace moeplan::cli
