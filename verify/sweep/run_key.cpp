#include "verify/sweep/run_key.h"

#include <nlohmann/json.hpp>

#include "planner/report.h"
#include "util/hash.h"

namespace moeplan::verify {
namespace {

// Retries draw seeds far from the repeats' (seed + 1..N).
constexpr std::uint64_t kRetrySeedOffset = 1000003;

}  // namespace

std::string run_key(const SweepSetup& setup, double budget_flops, const law::MoeArchitecture& arch,
                    int replicate) {
  law::MoeArchitecture a = arch;
  a.vocab_size = setup.vocab_size;
  a.context = setup.context;
  const nlohmann::json config = {{"architecture", planner::architecture_to_json(a)},
                                 {"budget_flops", budget_flops},
                                 {"replicate", replicate},
                                 {"lr_scale", setup.lr_scale},
                                 {"min_steps", setup.min_steps},
                                 {"divergence_factor", setup.divergence_factor},
                                 {"val_tokens", setup.val_tokens},
                                 {"data_fingerprint", setup.data_fingerprint}};
  return hex64(fnv1a64(config.dump()));
}

std::uint64_t run_seed(const SweepSetup& setup, int replicate) {
  return setup.seed + static_cast<std::uint64_t>(replicate);
}

std::uint64_t retry_seed(const SweepSetup& setup, int replicate) {
  return run_seed(setup, replicate) + kRetrySeedOffset;
}

}  // namespace moeplan::verify
