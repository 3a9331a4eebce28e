#pragma once
// The run-to-run noise a sweep measured: configurations trained with more than one seed
// (`sweep --seeds N`) give the spread of val_loss that no law can predict.
#include <optional>
#include <vector>

#include "verify/check/prediction_interval.h"
#include "verify/sweep/ledger.h"

namespace moeplan::verify {

// Pooled standard deviation over groups of ok rows with the same configuration (every ledger
// field but seed, key, losses and timings): σ² = Σ_g Σ_i (L_gi − L̄_g)² / Σ_g (n_g − 1).
// nullopt when no configuration has two ok rows.
std::optional<NoisePart> replicate_noise(const std::vector<LedgerRow>& rows);

}  // namespace moeplan::verify
