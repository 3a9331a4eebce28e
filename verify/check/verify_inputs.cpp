#include "verify/check/verify_inputs.h"

#include <algorithm>

#include "util/error.h"
#include "verify/check/ledger_runs.h"

namespace moeplan::verify {

void check_ledger_matches_setup(const std::vector<LedgerRow>& rows, const SweepSetup& setup,
                                const std::filesystem::path& ledger_path) {
  for (const auto& r : rows) {
    if (r.data_fingerprint != setup.data_fingerprint)
      fail(ledger_path.string(), ": run ", r.key, " was trained on other data (fingerprint ",
           r.data_fingerprint, ", the sweep's is ", setup.data_fingerprint, ")");
    if (r.vocab != setup.vocab_size || r.context != setup.context)
      fail(ledger_path.string(), ": run ", r.key, " (vocab ", r.vocab, ", context ", r.context,
           ") is not of this sweep (vocab ", setup.vocab_size, ", context ", setup.context, ")");
  }
}

void check_law_fitted_on_ledger(const law::ScalingLaw& law, const std::vector<LedgerRow>& rows,
                                const std::filesystem::path& law_path) {
  const auto budgets = swept_budgets(rows);
  if (budgets.empty()) fail("the sweep's ledger has no ok runs: nothing to verify against");
  if (!law.domain.budget_flops) return;  // fitted without a budget column: nothing to compare
  const law::Range fitted = *law.domain.budget_flops;
  const auto inside = [&](double c) {
    return c >= budgets.front() * (1 - 1e-6) && c <= budgets.back() * (1 + 1e-6);
  };
  if (!inside(fitted.lo) || !inside(fitted.hi))
    fail(law_path.string(), " was fitted on runs at ", fitted.lo, "..", fitted.hi,
         " FLOPs, not on this sweep's ledger (", budgets.front(), "..", budgets.back(), " FLOPs)");
}

law::FixedCoefficients fixed_coefficients_of_law_file(const nlohmann::json& law_file,
                                                      law::LawForm form) {
  if (!law_file.contains("fit") || !law_file["fit"].contains("fixed")) return {};
  std::vector<std::string> items;
  for (const auto& [name, value] : law_file["fit"]["fixed"].items())
    items.push_back(name + "=" + value.dump());
  return law::parse_fixed_coefficients(items, form);
}

void require_bootstrap(const law::ScalingLaw& law, const std::filesystem::path& law_path,
                       const std::filesystem::path& sweep_dir) {
  if (!law.bootstrap.empty()) return;
  fail(law_path.string(),
       " has no bootstrap refits, which the interval needs; fit it with `moeplan "
       "law fit ",
       (sweep_dir / kLedgerFileName).string(), " --bootstrap 100 -o ", law_path.string(), "`");
}

double largest_swept_budget(const SweepSetup& setup, const std::vector<LedgerRow>& rows) {
  double largest = 0;
  for (double c : setup.budgets_flops) largest = std::max(largest, c);
  for (const auto& r : rows) largest = std::max(largest, r.budget_flops);
  return largest;
}

void check_verify_budget(double budget_flops, double largest_swept_flops) {
  if (!(budget_flops > largest_swept_flops) || same_budget(budget_flops, largest_swept_flops))
    fail("--budget ", budget_flops, " FLOPs must exceed the largest swept budget ",
         largest_swept_flops, " FLOPs: verify checks an extrapolation");
}

double largest_swept_sparsity(const SweepSetup& setup) {
  if (setup.experts.empty()) fail("the sweep setup lists no expert counts");
  const auto e = static_cast<double>(*std::max_element(setup.experts.begin(), setup.experts.end()));
  return (e - static_cast<double>(setup.top_k)) / e;
}

}  // namespace moeplan::verify
