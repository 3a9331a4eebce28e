#pragma once
// The sweep directory's life: the first call records SWEEP/sweep.json and the grid in
// SWEEP/runs.json; a later call with the same configuration reuses them (a moved data directory
// with the same fingerprint, another device or build are recorded, nothing else changes) and
// refuses another configuration or other data with one line. Checks come before any write.
#include <filesystem>
#include <vector>

#include "verify/sweep/sweep_grid.h"
#include "verify/sweep/sweep_setup.h"

namespace moeplan::verify {

// Throws Error unless `data_dir` holds training and validation shards.
void check_sweep_data(const std::filesystem::path& data_dir);

// Refuses `requested` when SWEEP/sweep.json records other data or another configuration.
// Returns the runs: SWEEP/runs.json's when it exists, else the designed grid.
std::vector<SweepRun> check_sweep_dir(const std::filesystem::path& sweep_dir,
                                      const SweepSetup& requested);

// check_sweep_dir, then writes sweep.json and (first time) runs.json; returns the runs.
std::vector<SweepRun> open_sweep_dir(const std::filesystem::path& sweep_dir,
                                     const SweepSetup& requested);

}  // namespace moeplan::verify
