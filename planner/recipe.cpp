#include "planner/recipe.h"

#include <algorithm>
#include <cmath>

namespace moeplan::planner {

double deepseek_batch_tokens(double budget_flops) {
  return 0.2920 * std::pow(budget_flops, 0.3271);
}

double deepseek_peak_lr(double budget_flops) {
  return 0.3118 * std::pow(budget_flops, -0.1250);
}

BatchSchedule batch_schedule(double batch_tokens, double tokens, std::int64_t context) {
  BatchSchedule b;
  const auto ctx = static_cast<double>(context);
  b.batch_sequences = std::max<std::int64_t>(1, std::llround(batch_tokens / ctx));
  b.batch_tokens = static_cast<double>(b.batch_sequences) * ctx;
  b.steps =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(tokens / b.batch_tokens)));
  b.warmup_steps =
      static_cast<std::int64_t>(std::ceil(kWarmupFraction * static_cast<double>(b.steps)));
  return b;
}

Recipe make_recipe(double budget_flops, double tokens, std::int64_t context) {
  Recipe r;
  r.deepseek_batch_tokens = deepseek_batch_tokens(budget_flops);
  r.deepseek_peak_lr = deepseek_peak_lr(budget_flops);
  r.deepseek = batch_schedule(r.deepseek_batch_tokens, tokens, context);
  r.paper = batch_schedule(kPaperBatchTokens, tokens, context);
  return r;
}

}  // namespace moeplan::planner
