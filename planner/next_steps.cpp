#include "planner/next_steps.h"

#include "planner/plan.h"

namespace moeplan::planner {

std::vector<std::string> next_step_commands(const PlanResult& /*plan*/) {
  const std::string sweep = "sweep/";
  return {
      std::string("moeplan sweep --data DIR --budgets ") + kCheckSweepBudgets + " --out " + sweep +
          "  # train small models on your own data (DIR from `moeplan data prepare`)",
      "moeplan law fit " + sweep + "runs.csv --bootstrap 100 -o law.json" +
          "  # fit the law to them, with intervals",
      "moeplan verify --sweep " + sweep + " --law law.json --budget " + kCheckVerifyBudget +
          "  # plan beyond the sweep, train it, compare with the prediction",
      "moeplan verify --plan plan.json --law law.json --log megatron.log"
      "  # after training this plan elsewhere (plan.json: this plan with --format json; the log "
      "of a run from --export megatron), or --measured-loss X instead of --log",
  };
}

}  // namespace moeplan::planner
