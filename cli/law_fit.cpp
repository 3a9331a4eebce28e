// `moeplan law fit RUNS.csv`: fit Eq. 6 (or the dense form) to the user's runs as §5 / App. E.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/options.h"
#include "law/fit_grid.h"
#include "law/fit_law.h"
#include "planner/fit_report.h"
#include "planner/runs_csv.h"
#include "util/error.h"
#include "util/text.h"
#include "util/units.h"

namespace moeplan::cli {

namespace {

// The starts of --starts full|coarse|NUMBER, with the axes of fixed coefficients collapsed (a
// fixed coefficient's axis has one value). Returns the label the report prints.
std::string choose_starts(const std::string& starts_text, law::FitSettings& settings) {
  const law::StartGrid grid = law::pin_grid(law::paper_grid(settings.form), settings.fixed);
  const std::string collapsed = settings.fixed.empty() ? "" : ", fixed axes collapsed";
  if (starts_text == "full") {  // settings.starts empty: fit_law takes the same grid
    return "paper grid (" + std::to_string(grid.size()) + collapsed + ")";
  }
  if (starts_text == "coarse") {
    settings.starts =
        law::all_starts(law::pin_grid(law::coarse_grid(settings.form), settings.fixed));
    return "coarse grid (" + std::to_string(settings.starts.size()) + collapsed + ")";
  }
  const auto count = static_cast<std::size_t>(parse_positive_int(starts_text, "--starts"));
  settings.starts = law::strided_starts(grid, count);
  return std::to_string(settings.starts.size()) + " of the paper grid's " +
         std::to_string(grid.size()) + " starts" + collapsed + ", evenly spread";
}

// "a, alpha, ..., e": the names --fix takes, as the report prints them.
std::string coefficient_names() {
  std::string names;
  for (const auto& [name, value] : law::named_coefficients({}, law::LawForm::kSparse))
    names += (names.empty() ? "" : ", ") + name;
  return names;
}

// --form: the sparse law (Eq. 6) or the dense one.
law::LawForm form_from_name(const std::string& text) {
  if (text == "abnar2025" || text == "sparse") return law::LawForm::kSparse;
  if (text == "chinchilla" || text == "dense") return law::LawForm::kDense;
  throw Error(unknown_name_message("--form", text, {"abnar2025", "chinchilla"}));
}

// The progress line on stderr: starts done of all, elapsed seconds and an ETA, at most twice a
// second.
std::function<void(std::size_t, std::size_t)> progress_line(
    std::chrono::steady_clock::time_point t0) {
  return [t0, shown_at = 0.0](std::size_t done, std::size_t total) mutable {
    const double now =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (now - shown_at < 0.5 && done < total) return;
    shown_at = now;
    const double eta = done ? now * double(total - done) / double(done) : 0;
    std::fprintf(stderr, "\rlaw fit: %zu / %zu starts (%.0f%%), %.0f s, ETA %.0f s   ", done,
                 total, 100.0 * double(done) / double(total), now, eta);
  };
}

}  // namespace

int run_law_fit(const std::vector<std::string>& args) {
  CommandSpec spec;
  spec.usage = "moeplan law fit RUNS.csv [--form abnar2025|chinchilla] [-o LAW.json] [options]";
  spec.description =
      "Fits the scaling law to your own runs as Abnar et al. 2025 did (§5, App. E): Huber loss "
      "(delta 1e-3) on log residuals, the prediction as the log-sum-exp of the law's terms, "
      "box-constrained L-BFGS from every start of Table 2's grid (437,400 starts for "
      "abnar2025; Hoffmann's 4,500 for chinchilla), each stopped by scipy L-BFGS-B's default "
      "rule, then the 8 best distinct optima polished to a relative decrease of 1e-10; the "
      "best objective wins. Reports MSE and "
      "Huber on the fit and held-out runs, bootstrap intervals with --bootstrap, and warnings "
      "when the fit is ill-conditioned. The file written by -o is a law file for "
      "`plan --law` and `law eval --law`. CSV columns by name: params|N, tokens|D, "
      "sparsity|S, loss (or val_loss); optional budget|C, active_params|N_a|N_active, status "
      "(rows whose status is not ok are left out and counted), as `moeplan sweep`'s "
      "SWEEP/runs.csv has them. --fix holds chosen coefficients at a value while the rest are "
      "fitted (a small sweep rarely determines all ten).";
  std::string form_text, output, holdout_text, starts_text, format, name;
  std::vector<std::string> fix_items;
  int bootstrap = 0;
  unsigned long long seed = 1;
  unsigned threads = 0;
  spec.options.add_options()
      ("runs", po::value<std::string>()->required(), "CSV of runs (positional)")
      ("form", po::value(&form_text)->default_value("abnar2025"), "abnar2025 (Eq. 6) or chinchilla (dense)")
      ("output,o", po::value(&output), "write the fitted law JSON here")
      ("holdout", po::value(&holdout_text), "held-out runs: max-sparsity (default for abnar2025), "
       "max-budget, max-params, none (default for chinchilla)")
      ("bootstrap", po::value(&bootstrap)->default_value(0), "bootstrap refits (paper: 100); 0 = "
       "none; each coefficient's interval is the 5th-95th percentile of the refits' estimates")
      ("seed", po::value(&seed)->default_value(1), "bootstrap resampling seed")
      ("starts", po::value(&starts_text)->default_value("full"),
       "start grid: full (the paper's), coarse (3 values per axis), or a NUMBER of starts spread "
       "evenly over the full grid")
      ("fix", po::value(&fix_items)->composing(),
       ("hold coefficients at a value while fitting the rest: NAME=VALUE, repeatable or "
        "comma-separated (names: " + coefficient_names() + ")").c_str())
      ("threads", po::value(&threads)->default_value(0), "worker threads (0 = all cores)")
      ("name", po::value(&name), "law name in the output (default: the CSV's file name)")
      ("format", po::value(&format)->default_value("table"), "stdout report: table or json");
  spec.positional.add("runs", 1);
  const auto vm = parse_command(spec, args);
  if (!vm) return 0;
  const std::string runs_path = (*vm)["runs"].as<std::string>();

  const law::LawForm form = form_from_name(form_text);
  if (format != "table" && format != "json")
    throw Error(unknown_name_message("--format", format, {"table", "json"}));
  law::FitSettings settings;
  settings.form = form;
  settings.holdout = law::default_holdout(form);
  if (vm->count("holdout")) {
    const auto h = law::holdout_from_name(holdout_text);
    if (!h) throw Error(unknown_name_message("--holdout", holdout_text, law::holdout_names()));
    settings.holdout = *h;
  }
  if (bootstrap < 0) fail("--bootstrap must be >= 0, got ", bootstrap);
  settings.bootstrap_samples = bootstrap;
  settings.bootstrap_seed = seed;
  settings.optimiser.threads = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  settings.fixed = law::parse_fixed_coefficients(fix_items, form);
  const std::string starts_label = choose_starts(starts_text, settings);
  check_output(output);

  const auto table = planner::read_runs_table(runs_path, form == law::LawForm::kDense);
  const auto& runs = table.runs;
  const auto t0 = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  // On a terminal, a progress line on stderr (the full grid takes about a minute on 2 cores).
  const bool tty = isatty(STDERR_FILENO) != 0;
  if (tty) settings.optimiser.progress = progress_line(t0);
  law::FitResult result = law::fit_law(runs, settings);
  if (tty) std::fprintf(stderr, "\r%*s\r", 72, "");
  const double seconds = elapsed();
  result.law.name = name.empty() ? std::filesystem::path(runs_path).stem().string() : name;
  result.law.description = "fitted by moeplan law fit (" + law::form_name(form) + ") on " +
                           std::to_string(result.fit_runs.size()) + " runs of " +
                           std::filesystem::path(runs_path).filename().string();

  // Each warning once: in the table when the table is the report, else on stderr.
  const planner::FitReportInputs inputs{runs_path,
                                        runs.size(),
                                        law::holdout_name(settings.holdout),
                                        starts_label,
                                        seconds,
                                        planner::left_out_line(table),
                                        planner::left_out_json(table),
                                        format == "table"};
  if (!inputs.warnings_in_table)
    for (const auto& w : result.warnings) std::cerr << "moeplan: warning: " << w << "\n";
  const nlohmann::json law_file = planner::fit_law_json(result, inputs);
  std::cout << (format == "json" ? law_file.dump(2) + "\n" : planner::fit_report_table(result, inputs));
  std::cout.flush();
  // A degenerate fit (alpha or beta = 0) is not a usable law: no file, non-zero exit.
  law::validate(result.law);
  if (!output.empty()) emit_output(output, law_file.dump(2) + "\n");
  return 0;
}

}  // namespace moeplan::cli
