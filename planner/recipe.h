#pragma once
// The training recipe that goes with a plan:
//   DeepSeek LLM (Bi et al. 2024) hyperparameter laws: B_opt = 0.2920·C^0.3271 tokens,
//   η_opt = 0.3118·C^−0.1250; beside the paper's batch 1024 × 2048 = 2,097,152 tokens and peak
//   LR {1, 2, 3}e-3 (App. B); steps = tokens / batch; linear warm-up over 5% of the steps
//   (paper: {2, 5, 10}%) then cosine decay to 10% of the peak (App. B).
// Step floor: a run of a few dozen steps is all warm-up and decay and measures the schedule, not
// the model (SPEC §5), so the DeepSeek batch shrinks (whole sequences, at least one) until the
// run has at least kMinSteps steps: batch_sequences = min(B_opt/T, floor(D / (kMinSteps·T))).
#include <cstdint>
#include <vector>

namespace moeplan::planner {

inline constexpr double kPaperBatchTokens = 1024.0 * 2048.0;
inline constexpr double kWarmupFraction = 0.05;
inline constexpr double kFinalLrFraction = 0.1;
inline constexpr std::int64_t kMinSteps = 200;

struct BatchSchedule {
  double batch_tokens = 0;           // tokens per optimizer step (sequences × context)
  std::int64_t batch_sequences = 0;  // rounded to whole sequences, at least 1
  std::int64_t steps = 0;            // ceil(tokens / batch_tokens)
  std::int64_t warmup_steps = 0;     // ceil(kWarmupFraction · steps)
  bool floored = false;              // the batch was shrunk to keep the step floor
};

struct Recipe {
  double deepseek_batch_tokens = 0;  // 0.2920·C^0.3271, unrounded
  double deepseek_peak_lr = 0;       // 0.3118·C^−0.1250
  BatchSchedule deepseek;            // with the DeepSeek batch rounded to whole sequences
  BatchSchedule paper;               // the paper's 2,097,152-token batch
  std::vector<double> paper_peak_lrs = {1e-3, 2e-3, 3e-3};
  double warmup_fraction = kWarmupFraction;
  double final_lr_fraction = kFinalLrFraction;
};

double deepseek_batch_tokens(double budget_flops);
double deepseek_peak_lr(double budget_flops);
BatchSchedule batch_schedule(double batch_tokens, double tokens, std::int64_t context);
// batch_schedule with the batch shrunk so that steps >= min_steps where one sequence per step
// allows it (a run of fewer than min_steps · context tokens keeps batch 1 and fewer steps).
BatchSchedule floored_batch_schedule(double batch_tokens, double tokens, std::int64_t context,
                                     std::int64_t min_steps);
// The DeepSeek schedule keeps the step floor (floored_batch_schedule); the paper's does not.
Recipe make_recipe(double budget_flops, double tokens, std::int64_t context,
                   std::int64_t min_steps = kMinSteps);

}  // namespace moeplan::planner
