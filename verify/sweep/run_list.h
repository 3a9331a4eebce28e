#pragma once
// SWEEP/runs.json: every run of the sweep (the grid, then runs that bracketing adds), in a list
// that only grows, so that run I is the same run for every worker (`sweep --worker --index I`,
// a Slurm array task) however many runs are added later.
#include <filesystem>
#include <vector>

#include "verify/sweep/sweep_grid.h"

namespace moeplan::verify {

inline constexpr const char* kRunListFileName = "runs.json";

// All runs (none when the file does not exist); throws Error naming the file when malformed.
std::vector<SweepRun> read_run_list(const std::filesystem::path& sweep_dir);

// Appends `added` after the runs already listed (atomically); returns the new list.
std::vector<SweepRun> append_runs(const std::filesystem::path& sweep_dir,
                                  const std::vector<SweepRun>& added);

}  // namespace moeplan::verify
