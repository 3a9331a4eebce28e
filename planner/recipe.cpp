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

BatchSchedule floored_batch_schedule(double batch_tokens, double tokens, std::int64_t context,
                                     std::int64_t min_steps) {
  BatchSchedule b = batch_schedule(batch_tokens, tokens, context);
  if (b.steps >= min_steps || b.batch_sequences == 1) return b;
  const double floor_sequences = std::floor(tokens / (static_cast<double>(min_steps * context)));
  const auto sequences = std::max<std::int64_t>(1, static_cast<std::int64_t>(floor_sequences));
  b = batch_schedule(static_cast<double>(sequences * context), tokens, context);
  b.floored = true;
  return b;
}

Recipe make_recipe(double budget_flops, double tokens, std::int64_t context,
                   std::int64_t min_steps) {
  Recipe r;
  r.deepseek_batch_tokens = deepseek_batch_tokens(budget_flops);
  r.deepseek_peak_lr = deepseek_peak_lr(budget_flops);
  r.deepseek = floored_batch_schedule(r.deepseek_batch_tokens, tokens, context, min_steps);
  r.paper = batch_schedule(kPaperBatchTokens, tokens, context);
  return r;
}

}  // namespace moeplan::planner
