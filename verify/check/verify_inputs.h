#pragma once
// The refusals of `verify` about its inputs, each a one-line Error: a ledger written for other
// data or by another sweep, a law not fitted on this sweep or without bootstrap samples, a
// budget that is not an extrapolation.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "law/fit_law_fixed.h"
#include "law/scaling_law.h"
#include "verify/sweep/ledger.h"
#include "verify/sweep/sweep_setup.h"

namespace moeplan::verify {

// Every row's data fingerprint, vocabulary and context are the setup's.
void check_ledger_matches_setup(const std::vector<LedgerRow>& rows, const SweepSetup& setup,
                                const std::filesystem::path& ledger_path);

// The law's fitted budget range lies within the ledger's ok budgets (a law fitted on another
// sweep's runs is refused).
void check_law_fitted_on_ledger(const law::ScalingLaw& law, const std::vector<LedgerRow>& rows,
                                const std::filesystem::path& law_path);

// The coefficients `law fit --fix` held, from the law file's "fit"."fixed" object (none when
// absent), so that the backtest refits the same model.
law::FixedCoefficients fixed_coefficients_of_law_file(const nlohmann::json& law_file,
                                                      law::LawForm form);

// The law carries bootstrap refits; otherwise the error names the command that adds them.
void require_bootstrap(const law::ScalingLaw& law, const std::filesystem::path& law_path,
                       const std::filesystem::path& sweep_dir);

// The largest budget the sweep set out to run or ran.
double largest_swept_budget(const SweepSetup& setup, const std::vector<LedgerRow>& rows);

// `budget_flops` exceeds the largest swept budget (verify checks an extrapolation).
void check_verify_budget(double budget_flops, double largest_swept_flops);

// S = (E − K)/E of the sweep's largest expert count: the law says nothing past it.
double largest_swept_sparsity(const SweepSetup& setup);

}  // namespace moeplan::verify
