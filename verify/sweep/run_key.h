#pragma once
// The key of one sweep run: a short hash of everything that makes its result what it is except
// the seed (the architecture, the budget, the recipe rule, the data, the evaluation) and WITH its
// replicate index (0 for the grid; 1..N for the `--seeds N` repeats, which are distinct runs).
// A retry with another seed keeps the key, so its ledger row replaces the failed attempt's.
#include <cstdint>
#include <string>

#include "law/architecture.h"
#include "verify/sweep/sweep_setup.h"

namespace moeplan::verify {

// 16 hex digits.
std::string run_key(const SweepSetup& setup, double budget_flops, const law::MoeArchitecture& arch,
                    int replicate);

// The first attempt's seed of a run: the sweep's seed for the grid, another per repeat.
std::uint64_t run_seed(const SweepSetup& setup, int replicate);
// The seed of the one retry after a divergence (differs from every run_seed of the sweep).
std::uint64_t retry_seed(const SweepSetup& setup, int replicate);

}  // namespace moeplan::verify
