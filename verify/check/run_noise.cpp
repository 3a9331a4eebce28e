#include "verify/check/run_noise.h"

#include <cmath>
#include <map>
#include <tuple>

#include "verify/check/ledger_runs.h"

namespace moeplan::verify {
namespace {

// What makes two rows the same run but for the seed.
auto configuration(const LedgerRow& r) {
  return std::make_tuple(r.budget_flops, r.params, r.active_params, r.tokens, r.d_model, r.layers,
                         r.heads, r.experts, r.top_k, r.granularity, r.vocab, r.context,
                         r.batch_sequences, r.peak_lr, r.steps);
}

}  // namespace

std::optional<NoisePart> replicate_noise(const std::vector<LedgerRow>& rows) {
  std::map<decltype(configuration(rows.front())), std::vector<double>> groups;
  for (const auto& r : ok_rows(rows)) groups[configuration(r)].push_back(*r.val_loss);
  NoisePart noise;
  double squares = 0, degrees = 0;
  for (const auto& [config, losses] : groups) {
    if (losses.size() < 2) continue;
    double mean = 0;
    for (double x : losses) mean += x / static_cast<double>(losses.size());
    for (double x : losses) squares += (x - mean) * (x - mean);
    degrees += static_cast<double>(losses.size() - 1);
    ++noise.groups;
    noise.replicates += losses.size();
  }
  if (noise.groups == 0) return std::nullopt;
  noise.std_loss = std::sqrt(squares / degrees);
  return noise;
}

}  // namespace moeplan::verify
