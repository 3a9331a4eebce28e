#include "verify/sweep/job_count.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "verify/memory_check.h"
#include "verify/cuda_library.h"

namespace moeplan::verify {
namespace {

constexpr double kMemoryMargin = 1.25;       // allocator slack, fragmentation
constexpr double kCudaContextBytes = 600e6;  // what each process's CUDA context takes

double free_memory_bytes(const std::string& device) {
  if (device == "cpu") return available_host_memory_bytes();
  return static_cast<double>(cuda_device_info().free_bytes);  // opens libmoeplan_cuda.so
}

}  // namespace

int default_jobs(const SweepSetup& setup, const std::vector<SweepRun>& pending) {
  if (pending.empty()) return 1;
  double need = 0;
  for (const SweepRun& run : pending) {
    const TrainConfig c = run_train_config(setup, run.arch, run.budget_flops, setup.seed, "");
    need = std::max(need, training_memory(c.arch, c.micro_batch(), setup.device).total());
  }
  need = need * kMemoryMargin + (setup.device == "cuda" ? kCudaContextBytes : 0);
  const int cap = setup.device == "cpu"
                      ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))
                      : kMaxGpuJobs;
  const double free = free_memory_bytes(setup.device);
  const int by_memory = free > 0 ? static_cast<int>(std::floor(free / need)) : cap;
  return std::clamp(std::min({by_memory, cap, static_cast<int>(pending.size())}), 1, cap);
}

}  // namespace moeplan::verify
