#include <cmath>

#include "law/flops.h"
#include "law/law_json.h"
#include "planner/report.h"

namespace moeplan::planner {
namespace {

using nlohmann::json;

json optional_number(const std::optional<double>& x) {
  return x ? json(*x) : json(nullptr);
}

json parallel_json(const law::ParallelDegrees& g) {
  return {{"tensor", g.tensor}, {"expert", g.expert}, {"pipeline", g.pipeline}, {"data", g.data}};
}

json model_json(const PlannedModel& m) {
  return {
      {"predicted_loss", m.loss},
      {"sparsity", m.sparsity},
      {"total_params", m.counts.total},
      {"active_params", m.counts.active},
      {"tokens", m.tokens},
      {"memory_per_device_bytes", m.memory.per_device_bytes()},
      {"parallel", parallel_json(m.layout)},
      {"architecture", architecture_to_json(m.architecture)},
  };
}

// A degree the flags fixed, or null (picked by the planner, or no cluster).
json optional_degree(const PlanRequest& r, std::optional<int> LayoutRequest::*degree) {
  if (!r.cap.cluster || !(r.cap.cluster->fixed.*degree)) return nullptr;
  return *(r.cap.cluster->fixed.*degree);
}

json inputs_json(const PlanRequest& r) {
  const auto& b = r.budget;
  json overrides = json::object();
  if (r.overrides.d_model) overrides["d_model"] = *r.overrides.d_model;
  if (r.shape.n_layers) overrides["n_layers"] = *r.shape.n_layers;
  if (r.shape.n_heads) overrides["n_heads"] = *r.shape.n_heads;
  if (r.shape.head_dim) overrides["head_dim"] = *r.shape.head_dim;
  if (r.overrides.experts) overrides["experts"] = *r.overrides.experts;
  if (r.overrides.top_k) overrides["active_experts"] = *r.overrides.top_k;
  if (r.overrides.granularity) overrides["granularity"] = *r.overrides.granularity;
  json in = {
      {"mode", plan_mode_name(r.mode)},
      {"law", r.law.name},
      {"budget",
       {{"flops", b.flops},
        {"derivation", b.derivation},
        {"gpu_hours", optional_number(b.gpu_hours)},
        {"gpu", b.gpu ? json(*b.gpu) : json(nullptr)},
        {"peak_flops_per_gpu", optional_number(b.peak_flops)},
        {"mfu", optional_number(b.mfu)}}},
      {"flops_method", law::flops_method_name(r.flops_method)},
      {"memory",
       {{"regime", law::regime_name(r.cap.setup.regime)},
        {"devices", r.cap.setup.devices},
        {"zero_stage", r.cap.setup.zero_stage},
        {"micro_batch", r.cap.setup.micro_batch},
        {"cluster", r.cap.cluster.has_value()},
        {"tensor_parallel", optional_degree(r, &LayoutRequest::tensor)},
        {"expert_parallel", optional_degree(r, &LayoutRequest::expert)},
        {"pipeline_parallel", optional_degree(r, &LayoutRequest::pipeline)},
        {"cap_bytes_per_device", optional_number(r.cap.bytes_per_device)},
        {"max_params", optional_number(r.cap.max_params)}}},
      {"sparsity_bounds", {effective_min_sparsity(r), effective_max_sparsity(r)}},
      {"vocab_size", r.shape.vocab_size},
      {"context", r.shape.context},
      {"aspect_ratio", r.shape.aspect_ratio},
      {"free_depth", r.shape.free_depth && !r.shape.n_layers},
      {"overrides", overrides},
  };
  if (r.mode == PlanMode::kFixedParams) {
    in["params"] = r.target_params;
    in["params_tolerance"] = r.params_tolerance;
  }
  if (r.mode == PlanMode::kFixedSparsity) {
    in["sparsity"] = r.target_sparsity;
  }
  return in;
}

json schedule_json(const BatchSchedule& s) {
  return {{"batch_tokens", s.batch_tokens},
          {"batch_sequences", s.batch_sequences},
          {"steps", s.steps},
          {"warmup_steps", s.warmup_steps}};
}

json points_json(const std::vector<SlicePoint>& points, const char* x, const char* y) {
  json a = json::array();
  for (const auto& p : points) a.push_back({{x, p.x}, {y, p.y}});
  return a;
}

// The continuous optimum of the mode and which constraints bind there.
json continuous_json(const PlanResult& plan) {
  const ContinuousPoint& p = plan.continuous.point;
  const BindingConstraints& bind = plan.continuous.binding;
  return {{"mode", plan_mode_name(plan.request.mode)},
                             {"total_params", p.total_params},
                             {"active_params", p.active_params},
                             {"tokens", p.tokens},
                             {"sparsity", p.sparsity},
                             {"predicted_loss", p.loss},
                             {"flops_per_token", p.flops_per_token},
                             {"d_model", p.d_model},
                             {"n_layers", p.n_layers},
                             {"binding",
                              {{"memory", bind.memory},
                               {"max_params", bind.max_params},
                               {"max_sparsity", bind.max_sparsity},
                               {"min_sparsity", bind.min_sparsity}}}};
}

// The training recipe: DeepSeek's batch and LR laws beside the paper's settings.
json recipe_json(const Recipe& rec) {
  return {{"deepseek",
                  {{"batch_tokens_law", rec.deepseek_batch_tokens},
                   {"peak_lr", rec.deepseek_peak_lr},
                   {"schedule", schedule_json(rec.deepseek)}}},
                 {"paper",
                  {{"batch_tokens", kPaperBatchTokens},
                   {"peak_lrs", rec.paper_peak_lrs},
                   {"schedule", schedule_json(rec.paper)}}},
                 {"warmup_fraction", rec.warmup_fraction},
                 {"decay", "cosine"},
                 {"final_lr_fraction", rec.final_lr_fraction}};
}

// Bytes per parameter, the memory per device under the plan's layout, and whether it fits.
json memory_json(const PlanResult& plan) {
  const PlanRequest& r = plan.request;
  const PlannedModel& m = plan.chosen;
  const law::BytesPerParam bpp = law::bytes_per_param(r.cap.setup.regime);
  const bool fits =
      (!r.cap.bytes_per_device || m.memory.per_device_bytes() <= *r.cap.bytes_per_device) &&
      (!r.cap.max_params || static_cast<double>(m.counts.total) <= *r.cap.max_params);
  return {{"regime", law::regime_name(r.cap.setup.regime)},
                 {"bytes_per_param",
                  {{"weights", bpp.weights},
                   {"grads", bpp.grads},
                   {"master", bpp.master},
                   {"optimizer", bpp.optimizer},
                   {"total", bpp.total()}}},
                 {"weights_bytes", m.memory.weights_bytes},
                 {"grads_bytes", m.memory.grads_bytes},
                 {"optimizer_bytes", m.memory.optimizer_bytes},
                 {"activation_bytes", m.memory.activation_bytes},
                 {"per_device_bytes", m.memory.per_device_bytes()},
                 {"devices", r.cap.setup.devices},
                 {"zero_stage", r.cap.setup.zero_stage},
                 {"micro_batch", r.cap.setup.micro_batch},
                 {"parallel", parallel_json(m.layout)},
                 {"cap_bytes_per_device", optional_number(r.cap.bytes_per_device)},
                 {"max_params", optional_number(r.cap.max_params)},
                 {"fits", fits}};
}

}  // namespace

json plan_to_json(const PlanResult& plan, const PlanSlices* slices, const PlotOutcome* plots) {
  const PlanRequest& r = plan.request;
  const PlannedModel& m = plan.chosen;
  const auto& c = m.counts;
  json j;
  j["schema_version"] = kPlanSchemaVersion;
  j["mode"] = plan_mode_name(r.mode);
  j["inputs"] = inputs_json(r);
  j["law"] = law::law_to_json(r.law);
  j["budget_flops"] = r.budget.flops;
  j["predicted_loss"] = m.loss;
  if (plan.loss_interval)
    j["predicted_loss_interval"] = {
        {"level", 0.9}, {"low", plan.loss_interval->lo}, {"high", plan.loss_interval->hi}};
  j["loss_terms"] = {{"params", m.terms.params},
                     {"data", m.terms.data},
                     {"sparsity", m.terms.sparsity},
                     {"interaction", m.terms.interaction},
                     {"irreducible", m.terms.irreducible}};
  j["sparsity"] = m.sparsity;
  j["total_params"] = c.total;
  j["active_params"] = c.active;
  j["embedding_params"] = c.embedding;
  j["non_embedding_params"] = c.non_embedding();
  j["tokens"] = m.tokens;
  j["tokens_per_param"] = m.tokens / static_cast<double>(c.total);
  j["tokens_per_active_param"] = m.tokens / static_cast<double>(c.active);
  const FlopsSummary& f = plan.flops;
  j["flops"] = {{"method", law::flops_method_name(r.flops_method)},
                {"per_token", m.flops_per_token},
                {"total", law::training_flops(m.flops_per_token, m.tokens)},
                {"six_na_d", f.six_na_total},
                {"eq9", f.eq9_total},
                {"eq9_router", f.eq9_router_total},
                {"six_na_per_token", f.six_na_per_token},
                {"eq9_per_token", f.eq9_per_token},
                {"eq9_router_per_token", f.eq9_router_per_token}};
  j["architecture"] = architecture_to_json(m.architecture);
  j["param_breakdown"] = {{"attention", c.attention},
                          {"router", c.router},
                          {"experts_total", c.experts_total},
                          {"experts_active", c.experts_active},
                          {"norms", c.norms},
                          {"embedding", c.embedding}};
  j["continuous_optimum"] = continuous_json(plan);
  j["recipe"] = recipe_json(plan.recipe);
  j["memory"] = memory_json(plan);
  json alternatives = json::array();
  for (std::size_t i = 0; i < plan.alternatives.size(); ++i) {
    json a = model_json(plan.alternatives[i]);
    a["chosen"] = i == plan.alternatives_chosen_index;
    alternatives.push_back(a);
  }
  j["alternatives"] = alternatives;
  j["search"] = {{"evaluated", plan.architectures_evaluated},
                 {"feasible", plan.architectures_feasible},
                 {"pareto_front", plan.pareto_front_size}};
  json domain = json::array();
  json warnings = json::array();
  for (const auto& w : plan.domain_warnings) {
    domain.push_back({{"quantity", w.quantity},
                      {"value", w.value},
                      {"fitted", {w.fitted.lo, w.fitted.hi}},
                      {"message", w.message}});
    warnings.push_back(w.message);
  }
  for (const auto& w : plan.warnings) warnings.push_back(w);
  j["domain_warnings"] = domain;
  j["warnings"] = warnings;
  j["notes"] = plan.notes;
  j["next_steps"] = plan.next_steps;
  if (slices) {
    j["slices"] = {
        {"at_params", slices->at_params},
        {"at_sparsity", slices->at_sparsity},
        {"params_cap", optional_number(slices->params_cap)},
        {"loss_over_sparsity", points_json(slices->loss_over_sparsity, "sparsity", "loss")},
        {"loss_over_params", points_json(slices->loss_over_params, "total_params", "loss")},
        {"optimal_sparsity", points_json(slices->optimal_sparsity, "total_params", "sparsity")}};
  }
  if (plots) {
    json list = json::array();
    for (const auto& plot : plots->plots)
      list.push_back({{"title", plot.title}, {"file", plot.path}});
    j["plots"] = list;
    if (!plots->note.empty()) j["notes"].push_back(plots->note);
  }
  return j;
}

}  // namespace moeplan::planner
