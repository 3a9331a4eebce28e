#include "verify/sweep/throughput.h"

#include <stdlib.h>

#include <algorithm>
#include <sstream>

#include "law/flops.h"
#include "util/error.h"
#include "util/units.h"
#include "verify/train_loop.h"

namespace moeplan::verify {
namespace {

constexpr std::int64_t kTimedSteps = 4;      // the first is start-up; the loop skips it in "steady"
constexpr std::int64_t kTimedValTokens = 1;  // validation is not what is timed

// A private temporary directory for the timing run (it writes no checkpoint, but the loop
// creates its output directory), removed when the object dies.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "moeplan-timing-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) fail("cannot create a temporary directory for the timing");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

Throughput ledger_throughput(const std::vector<LedgerRow>& ledger) {
  std::vector<double> rates;
  for (const LedgerRow& r : ledger)
    if (r.status == RunStatus::kOk && r.tokens_per_s > 0)
      rates.push_back(r.tokens_per_s * law::six_na_flops_per_token(r.active_params));
  if (rates.empty()) return {};
  std::nth_element(rates.begin(), rates.begin() + static_cast<std::ptrdiff_t>(rates.size() / 2),
                   rates.end());
  return {rates[rates.size() / 2],
          "the ledger's " + std::to_string(rates.size()) + " finished runs"};
}

Throughput measured_throughput(const SweepSetup& setup, const SweepRun& run) {
  const ScratchDir scratch;
  TrainConfig config =
      run_train_config(setup, run.arch, run.budget_flops, setup.seed, scratch.path());
  config.data_dir.clear();
  config.random_data = true;
  config.write_checkpoints = false;
  config.checkpoint_every = 0;
  config.log_path.clear();
  config.summary_path.clear();
  config.val_tokens = kTimedValTokens;
  config.eval_every = config.total_steps();
  config.stop_after_steps = kTimedSteps;
  std::ostringstream ignored;
  const TrainOutcome outcome = train(config, ignored);
  const double tokens_per_s = outcome.summary.value("tokens_per_s_steady", 0.0);
  if (!(tokens_per_s > 0)) fail("could not time the sweep's smallest model");
  const double active = static_cast<double>(law::count_params(config.arch).active);
  return {tokens_per_s * law::six_na_flops_per_token(active),
          "a timing of " + std::to_string(kTimedSteps) + " steps of " + law::describe(config.arch) +
              " on " + setup.device};
}

Throughput estimate_throughput(const SweepSetup& setup, const std::vector<SweepRun>& runs,
                               const std::vector<LedgerRow>& ledger) {
  Throughput t = ledger_throughput(ledger);
  if (t.flops_per_s > 0 || runs.empty()) return t;
  const auto smallest =
      std::min_element(runs.begin(), runs.end(), [](const auto& a, const auto& b) {
        return law::count_params(a.arch).total < law::count_params(b.arch).total;
      });
  return measured_throughput(setup, *smallest);
}

double estimated_seconds(const SweepRun& run, const Throughput& throughput) {
  return throughput.flops_per_s > 0 ? run.budget_flops / throughput.flops_per_s : 0;
}

}  // namespace moeplan::verify
