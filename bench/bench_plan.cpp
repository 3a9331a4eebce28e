// Times the planner in-process: make_plan (continuous optimum + global discrete search + Pareto)
// and the slices the JSON/Markdown reports add, for a few typical requests.
// Usage: bench_plan [repetitions]  (default 20); prints min / median / max milliseconds of wall
// time, and the median of process CPU time (steadier on a shared machine).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "law/presets.h"
#include "planner/plan.h"
#include "planner/slices.h"

namespace {

using moeplan::planner::PlanMode;
using moeplan::planner::PlanRequest;

struct Case {
  std::string name;
  PlanRequest request;
};

PlanRequest base(double budget) {
  PlanRequest r;
  r.law = moeplan::law::preset_law("abnar2025");
  r.budget.flops = budget;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
  std::vector<Case> cases;
  {
    PlanRequest r = base(1e21);
    r.cap.bytes_per_device = 80.0 * 1073741824.0;
    r.cap.setup.devices = 8;
    cases.push_back({"optimum 1e21, 8x80GiB pool", r});
  }
  {
    PlanRequest r = base(1e21);
    r.cap.bytes_per_device = 80.0 * 1073741824.0;
    r.cap.setup.devices = 8;
    r.cap.setup.zero_stage = moeplan::planner::kClusterZeroStage;
    r.cap.cluster = moeplan::planner::ClusterRequest{8, {}};
    cases.push_back({"--gpus 8 --gpu-memory 80GiB", r});
    r.shape.free_depth = false;
    cases.push_back({"  same, fixed depth", r});
  }
  cases.push_back({"optimum 1e21, no cap", base(1e21)});
  {
    PlanRequest r = base(1e21);
    r.mode = PlanMode::kFixedParams;
    r.target_params = 3e9;
    cases.push_back({"--params 3e9", r});
  }
  {
    PlanRequest r = base(1e21);
    r.mode = PlanMode::kFixedSparsity;
    r.target_sparsity = 0.9;
    cases.push_back({"--sparsity 0.9", r});
  }
  std::printf("%-28s %8s %10s %8s %12s %14s\n", "case", "min ms", "median ms", "max ms",
              "cpu med ms", "+slices med ms");
  for (const auto& c : cases) {
    std::vector<double> plan_ms, cpu_ms, slices_ms;
    for (int i = 0; i < reps; ++i) {
      const std::clock_t c0 = std::clock();
      const auto t0 = std::chrono::steady_clock::now();
      const auto plan = moeplan::planner::make_plan(c.request);
      const auto t1 = std::chrono::steady_clock::now();
      cpu_ms.push_back(1000.0 * static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
      const auto slices = moeplan::planner::plan_slices(plan);
      const auto t2 = std::chrono::steady_clock::now();
      (void)slices;
      plan_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      slices_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
    std::sort(plan_ms.begin(), plan_ms.end());
    std::sort(slices_ms.begin(), slices_ms.end());
    std::sort(cpu_ms.begin(), cpu_ms.end());
    std::printf("%-28s %8.1f %10.1f %8.1f %12.1f %14.1f\n", c.name.c_str(), plan_ms.front(),
                plan_ms[plan_ms.size() / 2], plan_ms.back(), cpu_ms[cpu_ms.size() / 2],
                slices_ms[slices_ms.size() / 2]);
  }
  return 0;
}
