// The plain-text table (default on stdout) and the Markdown report share one list of sections.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "planner/report.h"
#include "util/units.h"

namespace moeplan::planner {
namespace {

struct Section {
  std::string title;
  std::vector<std::pair<std::string, std::string>> rows;
};

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

std::string count(std::int64_t n) {
  // 1234567 -> "1,234,567 (1.23M)"
  std::string digits = std::to_string(n), grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return grouped + " (" + format_count(static_cast<double>(n)) + ")";
}

std::vector<Section> sections(const PlanResult& plan) {
  const PlanRequest& r = plan.request;
  const PlannedModel& m = plan.chosen;
  const auto& a = m.architecture;
  const auto& c = m.counts;
  std::vector<Section> out;

  Section in{"Inputs", {}};
  in.rows.push_back({"budget C", format_sci(r.budget.flops) + " FLOPs, " + r.budget.derivation});
  in.rows.push_back(
      {"law", r.law.name + (r.law.description.empty() ? "" : " (" + r.law.description + ")")});
  in.rows.push_back({"mode", plan_mode_name(r.mode)});
  if (r.mode == PlanMode::kFixedParams)
    in.rows.push_back({"fixed N", format_count(r.target_params) + " +/- " +
                                      fixed(100 * r.params_tolerance, 1) + "%"});
  if (r.mode == PlanMode::kFixedSparsity)
    in.rows.push_back({"fixed S", fixed(r.target_sparsity, 4)});
  std::string cap = "none";
  if (r.cap.bytes_per_device) cap = format_bytes(*r.cap.bytes_per_device) + " per device";
  if (r.cap.max_params)
    cap = (r.cap.bytes_per_device ? cap + ", " : std::string()) +
          "N <= " + format_count(*r.cap.max_params);
  in.rows.push_back({"memory cap", cap});
  in.rows.push_back(
      {"memory regime",
       law::regime_name(r.cap.setup.regime) +
           (r.cap.cluster ? ", " + std::to_string(r.cap.setup.devices) + " GPUs, ZeRO-" +
                                std::to_string(r.cap.setup.zero_stage)
                          : std::string(", one device")) +
           ", micro-batch " + fixed(r.cap.setup.micro_batch, 0)});
  std::string bounds = "[";
  bounds += fixed(effective_min_sparsity(r), 3) + ", " + fixed(effective_max_sparsity(r), 3) + "]";
  in.rows.push_back({"sparsity bounds", bounds});
  in.rows.push_back({"FLOPs per token", law::flops_method_name(r.flops_method)});
  out.push_back(in);

  Section res{"Plan", {}};
  std::string loss = fixed(m.loss, 4);
  if (plan.loss_interval)
    loss += "  (90% bootstrap interval " + fixed(plan.loss_interval->lo, 4) + " - " +
            fixed(plan.loss_interval->hi, 4) + ")";
  res.rows.push_back({"predicted loss", loss});
  res.rows.push_back({"sparsity S", fixed(m.sparsity, 4)});
  res.rows.push_back({"total params N", count(c.total)});
  res.rows.push_back({"active params N_a", count(c.active)});
  res.rows.push_back({"embedding params", count(c.embedding)});
  res.rows.push_back(
      {"tokens D", format_sci(m.tokens) + "  (" +
                       fixed(m.tokens / static_cast<double>(c.total), 1) + " per param, " +
                       fixed(m.tokens / static_cast<double>(c.active), 1) + " per active param)"});
  res.rows.push_back({"FLOPs 6*N_a*D", format_sci(plan.flops.six_na_total)});
  res.rows.push_back({"FLOPs Eq. 9", format_sci(plan.flops.eq9_total) + "  (with router " +
                                         format_sci(plan.flops.eq9_router_total) + ")"});
  res.rows.push_back({"loss terms", "a/N^alpha " + fixed(m.terms.params, 4) + ", b/D^beta " +
                                        fixed(m.terms.data, 4) + ", c/(1-S)^lambda " +
                                        fixed(m.terms.sparsity, 4) + ", d/((1-S)^delta N^gamma) " +
                                        fixed(m.terms.interaction, 4) + ", e " +
                                        fixed(m.terms.irreducible, 4)});
  out.push_back(res);

  Section arch{"Architecture", {}};
  arch.rows = {
      {"d_model", std::to_string(a.d_model)},
      {"n_layers", std::to_string(a.n_layers)},
      {"n_heads x head_dim", std::to_string(a.n_heads) + " x " + std::to_string(a.head_dim())},
      {"experts E (total)", std::to_string(a.experts)},
      {"active experts K", std::to_string(a.active_experts)},
      {"granularity G", std::to_string(a.granularity)},
      {"expert hidden (4d/G)", std::to_string(a.expert_hidden)},
      {"vocabulary", std::to_string(a.vocab_size)},
      {"context", std::to_string(a.context)},
      {"params: attention", count(c.attention)},
      {"params: router", count(c.router)},
      {"params: experts (all)", count(c.experts_total)},
      {"params: experts (active)", count(c.experts_active)},
      {"params: norms", count(c.norms)},
      {"params: embeddings", count(c.embedding)}};
  out.push_back(arch);

  const ContinuousPoint& p = plan.continuous.point;
  Section cont{"Continuous optimum", {}};
  cont.rows = {{"S*", fixed(p.sparsity, 4)},
               {"N*", format_count(p.total_params)},
               {"N_a*", format_count(p.active_params)},
               {"D*", format_sci(p.tokens)},
               {"L*", fixed(p.loss, 4)},
               {"shape", "d_model " + fixed(p.d_model, 0) + ", layers " + fixed(p.n_layers, 1)}};
  out.push_back(cont);

  const Recipe& rec = plan.recipe;
  Section recipe{"Recipe", {}};
  recipe.rows = {
      {"DeepSeek batch", format_count(rec.deepseek_batch_tokens) + " tokens (0.2920*C^0.3271) -> " +
                             std::to_string(rec.deepseek.batch_sequences) + " x " +
                             std::to_string(a.context) + ", " + std::to_string(rec.deepseek.steps) +
                             " steps"},
      {"DeepSeek peak LR", format_sci(rec.deepseek_peak_lr) + " (0.3118*C^-0.1250)"},
      {"paper batch", std::to_string(rec.paper.batch_sequences) + " x " +
                          std::to_string(a.context) + " = " + format_count(rec.paper.batch_tokens) +
                          " tokens, " + std::to_string(rec.paper.steps) + " steps"},
      {"paper peak LR", "1e-3, 2e-3 or 3e-3"},
      {"schedule", "linear warm-up over " + fixed(100 * rec.warmup_fraction, 0) + "% of steps (" +
                       std::to_string(rec.deepseek.warmup_steps) + " DeepSeek / " +
                       std::to_string(rec.paper.warmup_steps) + " paper steps), cosine decay to " +
                       fixed(100 * rec.final_lr_fraction, 0) + "% of peak"}};
  out.push_back(recipe);

  Section mem{"Memory per device", {}};
  const law::BytesPerParam bpp = law::bytes_per_param(r.cap.setup.regime);
  if (r.cap.cluster) mem.rows.push_back({"parallel layout", describe_layout(m.layout)});
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"bytes per param",
       fixed(bpp.total(), 0) + " (" + law::regime_name(r.cap.setup.regime) + ")"},
      {"weights", format_bytes(m.memory.weights_bytes)},
      {"grads", format_bytes(m.memory.grads_bytes)},
      {"optimizer (master + Adam)", format_bytes(m.memory.optimizer_bytes)},
      {"activations", format_bytes(m.memory.activation_bytes)},
      {"total", format_bytes(m.memory.per_device_bytes()) +
                    (r.cap.bytes_per_device ? " of " + format_bytes(*r.cap.bytes_per_device)
                                            : std::string())}};
  mem.rows.insert(mem.rows.end(), rows.begin(), rows.end());
  out.push_back(mem);
  return out;
}

std::vector<std::vector<std::string>> alternative_rows(const PlanResult& plan) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"", "loss", "S", "N", "N_a", "D", "memory", "architecture"});
  for (std::size_t i = 0; i < plan.alternatives.size(); ++i) {
    const PlannedModel& m = plan.alternatives[i];
    rows.push_back({i == plan.alternatives_chosen_index ? "*" : "", fixed(m.loss, 4),
                    fixed(m.sparsity, 3), format_count(static_cast<double>(m.counts.total)),
                    format_count(static_cast<double>(m.counts.active)), format_sci(m.tokens),
                    format_bytes(m.memory.per_device_bytes()), law::describe(m.architecture)});
  }
  return rows;
}

std::vector<std::string> all_warnings(const PlanResult& plan) {
  std::vector<std::string> w;
  for (const auto& d : plan.domain_warnings) w.push_back(d.message);
  for (const auto& s : plan.warnings) w.push_back(s);
  return w;
}

}  // namespace

std::string plan_table(const PlanResult& plan) {
  std::ostringstream s;
  for (const auto& sec : sections(plan)) {
    s << sec.title << "\n";
    std::size_t width = 0;
    for (const auto& row : sec.rows) width = std::max(width, row.first.size());
    for (const auto& row : sec.rows) {
      std::string label = row.first;
      label.resize(width, ' ');
      s << "  " << label << "  " << row.second << "\n";
    }
    s << "\n";
  }
  const auto rows = alternative_rows(plan);
  s << "Alternatives (Pareto front in loss, active and total params; * = plan)\n";
  std::vector<std::size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  for (const auto& row : rows) {
    s << " ";
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string cell = row[i];
      if (i + 1 < row.size()) cell.resize(widths[i], ' ');
      s << " " << cell;
    }
    s << "\n";
  }
  const auto warnings = all_warnings(plan);
  if (!warnings.empty()) {
    s << "\nWarnings\n";
    for (const auto& w : warnings) s << "  - " << w << "\n";
  }
  if (!plan.notes.empty()) {
    s << "\nNotes\n";
    for (const auto& n : plan.notes) s << "  - " << n << "\n";
  }
  if (!plan.next_steps.empty()) {
    s << "\nNext steps: check the plan\n";
    for (const auto& c : plan.next_steps) s << "  " << c << "\n";
  }
  return s.str();
}

std::string plan_markdown(const PlanResult& plan, const PlotOutcome& plots) {
  const PlanRequest& r = plan.request;
  std::ostringstream s;
  s << "# MoE plan: " << law::describe(plan.chosen.architecture) << "\n\n"
    << "Budget " << format_sci(r.budget.flops) << " FLOPs, law `" << r.law.name
    << "`: predicted loss **" << fixed(plan.chosen.loss, 4) << "** at sparsity "
    << fixed(plan.chosen.sparsity, 4) << ", "
    << format_count(static_cast<double>(plan.chosen.counts.total)) << " total / "
    << format_count(static_cast<double>(plan.chosen.counts.active)) << " active parameters, "
    << format_sci(plan.chosen.tokens) << " tokens.\n\n";
  for (const auto& sec : sections(plan)) {
    s << "## " << sec.title << "\n\n| | |\n|---|---|\n";
    for (const auto& row : sec.rows) s << "| " << row.first << " | " << row.second << " |\n";
    s << "\n";
  }
  const auto rows = alternative_rows(plan);
  s << "## Alternatives\n\nThe Pareto front in predicted loss, active parameters (inference cost) "
       "and total parameters (memory); * marks the plan.\n\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    s << "|";
    for (const auto& cell : rows[i]) s << " " << cell << " |";
    s << "\n";
    if (i == 0) {
      s << "|";
      for (std::size_t k = 0; k < rows[i].size(); ++k) s << "---|";
      s << "\n";
    }
  }
  s << "\n## Plots\n\n";
  if (plots.plots.empty()) {
    s << plots.note << "\n";
  } else {
    s << "isoFLOP slices of the continuous relaxation at C = " << format_sci(r.budget.flops)
      << " (memory cap not applied).\n\n";
    for (const auto& p : plots.plots) s << "![" << p.title << "](" << p.link << ")\n\n";
  }
  const auto warnings = all_warnings(plan);
  if (!warnings.empty()) {
    s << "\n## Warnings\n\n";
    for (const auto& w : warnings) s << "- " << w << "\n";
  }
  if (!plan.notes.empty()) {
    s << "\n## Notes\n\n";
    for (const auto& n : plan.notes) s << "- " << n << "\n";
  }
  if (!plan.next_steps.empty()) {
    s << "\n## Next steps: check the plan\n\n```sh\n";
    for (const auto& c : plan.next_steps) s << c << "\n";
    s << "```\n";
  }
  return s.str();
}

}  // namespace moeplan::planner
