#include "planner/export_plan.h"

#include <algorithm>

#include "planner/megatron_checks.h"
#include "util/error.h"

namespace moeplan::planner {

ExportRecipe megatron_recipe(const PlanResult& plan) {
  ExportRecipe recipe;
  recipe.peak_lr = plan.recipe.deepseek_peak_lr;
  recipe.min_lr = plan.recipe.deepseek_peak_lr * plan.recipe.final_lr_fraction;
  recipe.global_batch_sequences = plan.recipe.deepseek.batch_sequences;
  recipe.micro_batch_sequences = static_cast<std::int64_t>(plan.request.cap.setup.micro_batch);
  recipe.train_steps = plan.recipe.deepseek.steps;
  // Megatron's scheduler needs fewer warm-up than decay iterations.
  recipe.warmup_steps = std::min(plan.recipe.deepseek.warmup_steps, plan.recipe.deepseek.steps - 1);
  return recipe;
}

std::string megatron_args_for_plan(const PlanResult& plan) {
  const PlanRequest& request = plan.request;
  std::optional<ExportLayout> layout;
  if (request.cap.cluster) layout = ExportLayout{plan.chosen.layout, request.cap.setup.zero_stage};
  const std::string text =
      export_megatron_args(plan.chosen.architecture, megatron_recipe(plan), layout);
  if (layout) {
    const auto violations =
        megatron_violations(parse_megatron_args(text), layout->degrees.devices());
    if (!violations.empty())
      fail("internal: the Megatron arguments break Megatron-LM's checks: ", violations.front());
  }
  return text;
}

}  // namespace moeplan::planner
