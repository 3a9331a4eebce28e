#pragma once
// `sweep --emit-slurm FILE`: an sbatch job-array script with one task per run not yet final in
// the ledger (task ID = the run's index in SWEEP/runs.json), `--array=LIST%P` so that at most P
// run at once, each task running `moeplan sweep --worker --index $SLURM_ARRAY_TASK_ID --out SWEEP`
// with absolute paths. Tasks are resumable (a requeued or repeated task resumes the run's
// checkpoint; a finished run is skipped) and claim their run with the worker's lock.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace moeplan::verify {

inline constexpr int kDefaultSlurmConcurrency = 8;

struct SlurmScriptOptions {
  std::filesystem::path executable;  // absolute
  std::filesystem::path sweep_dir;   // absolute
  std::vector<std::size_t> indices;  // runs to submit, increasing
  int concurrency = kDefaultSlurmConcurrency;
  std::string device = "cuda";  // "cuda" asks for one GPU per task
};

// "0-3,5,7-9": increasing indices as Slurm's array ranges.
std::string slurm_array_ranges(const std::vector<std::size_t>& indices);

std::string slurm_script(const SlurmScriptOptions& options);

}  // namespace moeplan::verify
