#pragma once
// How many runs of a sweep train at once by default: as many as fit the device's free memory
// (each run's training memory from verify/memory_check.h, the largest pending run's, plus a
// margin), at most the CPU cores on cpu and at most kMaxGpuJobs on one GPU (beyond that the runs
// only queue for the same SMs), and never more than the runs pending.
#include <vector>

#include "verify/sweep/sweep_grid.h"

namespace moeplan::verify {

inline constexpr int kMaxGpuJobs = 8;

int default_jobs(const SweepSetup& setup, const std::vector<SweepRun>& pending);

}  // namespace moeplan::verify
