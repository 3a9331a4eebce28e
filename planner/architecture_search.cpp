#include "planner/architecture_search.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "law/flops.h"
#include "law/memory.h"
#include "law/scaling_law.h"
#include "planner/pareto.h"

namespace moeplan::planner {
namespace {

// Head width for a discrete d_model, or 0 when the rule cannot be met.
std::int64_t head_dim_for(std::int64_t d, const ShapeRule& rule) {
  std::int64_t head_dim = 0;
  if (rule.head_dim) {
    head_dim = *rule.head_dim;
  } else if (rule.n_heads) {
    if (*rule.n_heads <= 0 || d % *rule.n_heads != 0) return 0;
    head_dim = d / *rule.n_heads;
  } else {
    head_dim = d >= 1024 ? 128 : 64;
  }
  if (head_dim <= 0 || d % head_dim != 0 || head_dim % 2 != 0) return 0;
  return head_dim;
}

std::vector<std::int64_t> granularities_of(const PlanRequest& request) {
  if (request.law.form == law::LawForm::kDense) return {1};
  if (request.overrides.granularity) return {*request.overrides.granularity};
  return {1, 2, 4, 8};
}

// The request's bounds, computed once.
struct Bounds {
  double s_lo = 0, s_hi = 0, n_lo = 0, n_hi = 0, cap_bytes = 0, cap_params = 0;
  bool dense = false;
};

Bounds search_bounds(const PlanRequest& r) {
  Bounds b;
  b.dense = r.law.form == law::LawForm::kDense;
  b.s_lo = effective_min_sparsity(r);
  b.s_hi = effective_max_sparsity(r);
  if (r.mode == PlanMode::kFixedSparsity) {
    const double gap = nearest_sparsity_gap(r) + 1e-12;
    b.s_lo = r.target_sparsity - gap;
    b.s_hi = r.target_sparsity + gap;
  }
  b.n_lo = r.target_params * (1 - r.params_tolerance);
  b.n_hi = r.target_params * (1 + r.params_tolerance);
  b.cap_bytes = r.cap.bytes_per_device.value_or(std::numeric_limits<double>::infinity());
  b.cap_params = r.cap.max_params.value_or(std::numeric_limits<double>::infinity());
  return b;
}

// One column of the space: a (d, L, heads, G, K) whose E the search walks upward.
struct Column {
  std::int64_t d = 0, layers = 0, heads = 0, g = 1, k = 1;
  // The E window walked (the depth search narrows it around the best E of the neighbour depth).
  std::int64_t e_min = 1, e_max = kMaxExperts;
  std::vector<TensorPipeline> options;  // on a cluster
};

// Memory of one architecture; `stop` when no larger E of the column can fit.
struct Fit {
  double bytes = 0;
  bool fits = false, allowed = true, stop = false;
};

Fit fit_memory(const law::MoeArchitecture& arch, const law::ParamCounts& counts, const Column& col,
               const PlanRequest& r, const Bounds& b) {
  Fit f;
  if (!r.cap.cluster) {
    f.bytes = law::memory_per_device(
                  static_cast<double>(counts.total), static_cast<double>(arch.n_layers),
                  static_cast<double>(arch.d_model), static_cast<double>(arch.n_heads),
                  static_cast<double>(arch.context), r.cap.setup)
                  .per_device_bytes();
    f.fits = f.bytes <= b.cap_bytes;
    f.stop = !f.fits;  // memory grows with E
    return f;
  }
  const law::ShardedParams params = law::sharded_params(arch, counts);
  const auto choice =
      choose_layout(*r.cap.cluster, col.options, params, arch.experts, r.cap.setup, b.cap_bytes);
  if (!choice) {
    f.allowed = false;
    return f;
  }
  f.bytes = choice->memory.per_device_bytes();
  f.fits = choice->fits;
  if (!f.fits)
    f.stop = memory_floor_bytes(*r.cap.cluster, col.options, params, r.cap.setup) > b.cap_bytes;
  return f;
}

void record_smallest(SearchResult& result, const law::MoeArchitecture& arch,
                     const law::ParamCounts& counts, double bytes) {
  if (!result.smallest || bytes < result.smallest_memory_bytes) {
    result.smallest = arch;
    result.smallest_memory_bytes = bytes;
    result.smallest_total_params = counts.total;
  }
}

Candidate make_candidate(const law::MoeArchitecture& arch, const law::ParamCounts& counts,
                         const Fit& fit, double tokens, double s, const PlanRequest& r) {
  const auto n = static_cast<double>(counts.total);
  Candidate c;
  c.tokens = tokens;
  c.loss = law::predict_loss(r.law, n, c.tokens, s);
  c.rank = c.loss;
  if (r.mode == PlanMode::kFixedParams) {
    const double scale = r.target_params / n;
    c.rank = law::predict_loss(r.law, r.target_params, c.tokens / scale, s);
  }
  c.memory_bytes = fit.bytes;
  c.total_params = counts.total;
  c.active_params = counts.active;
  c.d_model = static_cast<std::int32_t>(arch.d_model);
  c.n_layers = static_cast<std::int32_t>(arch.n_layers);
  c.n_heads = static_cast<std::int32_t>(arch.n_heads);
  c.experts = static_cast<std::int32_t>(arch.experts);
  c.top_k = static_cast<std::int32_t>(arch.active_experts);
  c.granularity = static_cast<std::int32_t>(arch.granularity);
  return c;
}

struct ColumnBest {
  double rank = std::numeric_limits<double>::infinity();  // infinity when nothing fits
  std::int64_t experts = 0;
};

// Walks E upward in one column (within its window).
ColumnBest search_column(const Column& col, const PlanRequest& r, const Bounds& b,
                         SearchResult& result) {
  const auto& o = r.overrides;
  const std::int64_t e_first = std::max(o.experts ? *o.experts : col.k, col.e_min);
  const std::int64_t e_last =
      std::min(b.dense ? 1 : (o.experts ? *o.experts : kMaxExperts), col.e_max);
  ColumnBest best;
  for (std::int64_t e = e_first; e <= e_last; ++e) {
    // All experts active is the dense computation: keep only E = K = G = 1 for it.
    if (e == col.k && col.g > 1 && !o.experts && !o.top_k) continue;
    const double s = 1.0 - static_cast<double>(col.k) / static_cast<double>(e);
    if (s < b.s_lo - 1e-12) continue;
    if (s > b.s_hi + 1e-12) break;  // S grows with E
    const law::MoeArchitecture arch = law::make_paper_architecture(
        col.d, col.layers, col.heads, e, col.k, col.g, r.shape.vocab_size, r.shape.context);
    const law::ParamCounts counts = law::count_params(arch);
    const auto n = static_cast<double>(counts.total);
    if (r.mode == PlanMode::kFixedParams) {
      if (n < b.n_lo) continue;
      if (n > b.n_hi) break;  // N grows with E
    }
    ++result.evaluated;
    const Fit fit = fit_memory(arch, counts, col, r, b);
    if (!fit.allowed) continue;
    record_smallest(result, arch, counts, fit.bytes);
    if (fit.stop || n > b.cap_params) break;  // memory and N grow with E
    if (!fit.fits) continue;
    const double tokens = r.budget.flops / law::flops_per_token(arch, counts, r.flops_method);
    if (tokens < static_cast<double>(r.shape.context)) break;  // tokens fall as E grows
    const Candidate c = make_candidate(arch, counts, fit, tokens, b.dense ? 0.0 : s, r);
    if (c.rank < best.rank) best = {c.rank, e};
    ++result.feasible_count;
    // Keep only what the report can show: the best-so-far loss only falls, so a candidate
    // past its alternatives window now is past the final plan's too (rank = loss here).
    if (r.mode == PlanMode::kOptimum && result.best &&
        c.loss > result.feasible[*result.best].loss * (1 + kAlternativeLossWindow))
      continue;
    result.feasible.push_back(c);
    if (!result.best || better_candidate(c, result.feasible[*result.best]))
      result.best = result.feasible.size() - 1;
  }
  return best;
}

}  // namespace

std::vector<std::int64_t> d_model_grid(const PlanRequest& request) {
  if (request.overrides.d_model) return {*request.overrides.d_model};
  std::vector<std::int64_t> grid;
  for (std::int64_t d = 64; d < 1024; d += 64) grid.push_back(d);
  for (std::int64_t d = 1024; d <= kMaxDModel; d += 128) grid.push_back(d);
  return grid;
}

double nearest_sparsity_gap(const PlanRequest& r) {
  const auto& o = r.overrides;
  double gap = std::numeric_limits<double>::infinity();
  for (const std::int64_t g : granularities_of(r)) {
    const std::int64_t k = o.top_k.value_or(g);
    auto consider = [&](std::int64_t e) {
      if (e < k || e > kMaxExperts || (e == k && g > 1 && !o.experts && !o.top_k)) return;
      gap = std::min(gap, std::fabs(1.0 - static_cast<double>(k) / e - r.target_sparsity));
    };
    if (o.experts) {
      consider(*o.experts);
      continue;
    }
    const double e_exact = static_cast<double>(k) / (1.0 - r.target_sparsity);
    consider(static_cast<std::int64_t>(std::floor(e_exact + 1e-9)));
    consider(static_cast<std::int64_t>(std::ceil(e_exact - 1e-9)));
  }
  return gap;
}

bool better_candidate(const Candidate& a, const Candidate& b) {
  if (std::fabs(a.rank - b.rank) < kLossTie) return a.active_params < b.active_params;
  return a.rank < b.rank;
}

law::MoeArchitecture to_architecture(const Candidate& c, const PlanRequest& request) {
  return law::make_paper_architecture(c.d_model, c.n_layers, c.n_heads, c.experts, c.top_k,
                                      c.granularity, request.shape.vocab_size,
                                      request.shape.context);
}

namespace {

// The depth walk from the default depth in one direction (step +1 or -1): stops at the end of
// the range, when nothing fits (more layers only need more memory), or after kDepthWorseSteps
// depths in a row that do not improve on the best so far of this (d, G).
void walk_depths(Column col, std::int64_t step, const LayerRange& range, ColumnBest from,
                 const PlanRequest& request, const Bounds& b, SearchResult& result) {
  int worse = 0;
  double best_rank = from.rank;
  std::int64_t best_experts = from.experts;
  for (std::int64_t layers = col.layers + step; layers >= range.first && layers <= range.last;
       layers += step) {
    col.layers = layers;
    if (request.cap.cluster)
      col.options = tensor_pipeline_options(
          *request.cap.cluster,
          {col.d, layers, col.heads, 1, 4 * col.d / col.g, request.shape.context});
    if (best_experts > 0) {
      col.e_min = best_experts - best_experts / kDepthExpertWindow;
      col.e_max = best_experts + best_experts / kDepthExpertWindow + 1;
    }
    const ColumnBest found = search_column(col, request, b, result);
    if (found.rank == std::numeric_limits<double>::infinity() && step > 0) return;
    if (found.rank < best_rank) {
      best_rank = found.rank;
      best_experts = found.experts;
      worse = 0;
    } else if (++worse >= kDepthWorseSteps) {
      return;
    }
  }
}

// Pass 3 of search_architectures (see there).
void walk_from_best_aspect(const std::vector<std::pair<Column, ColumnBest>>& columns,
                           const PlanRequest& request, const Bounds& b, SearchResult& result) {
  // The best aspect ratio so far, tried at every (d, G) (the best depth of a width carries over
  // to the others), then walked from there as in pass 2 for the kDepthSearchColumns best starts
  // within kDepthHintMargin of the best.
  if (!result.best) return;
  const Candidate top = result.feasible[*result.best];  // a copy: `feasible` grows below
  const double aspect = static_cast<double>(top.d_model) / top.n_layers;
  std::vector<std::pair<Column, ColumnBest>> starts;
  for (auto [col, found] : columns) {
    const LayerRange range = request.shape.discrete_layer_range(col.d);
    const auto layers = std::clamp<std::int64_t>(std::llround(static_cast<double>(col.d) / aspect),
                                                 range.first, range.last);
    if (range.first == range.last || layers == col.layers) continue;
    col.layers = layers;
    if (request.cap.cluster)
      col.options = tensor_pipeline_options(
          *request.cap.cluster,
          {col.d, layers, col.heads, 1, 4 * col.d / col.g, request.shape.context});
    if (found.experts > 0) {  // near the best E at the default depth, as in the walks
      col.e_min = found.experts - found.experts / kDepthExpertWindow;
      col.e_max = found.experts + found.experts / kDepthExpertWindow + 1;
    }
    found = search_column(col, request, b, result);
    if (found.rank <= top.rank + kDepthHintMargin) starts.emplace_back(col, found);
  }
  std::sort(starts.begin(), starts.end(),
            [](const auto& x, const auto& y) { return x.second.rank < y.second.rank; });
  if (starts.size() > kDepthSearchColumns) starts.resize(kDepthSearchColumns);
  for (const auto& [col, found] : starts) {
    const LayerRange range = request.shape.discrete_layer_range(col.d);
    walk_depths(col, +1, range, found, request, b, result);
    walk_depths(col, -1, range, found, request, b, result);
  }
}

SearchResult search_one_tier(const PlanRequest& request) {
  SearchResult result;
  result.searched = request;
  const Bounds b = search_bounds(request);
  // Pass 1: every (d, G) at the default depth round(d/128), as with the depth fixed.
  std::vector<std::pair<Column, ColumnBest>> columns;
  for (const std::int64_t d : d_model_grid(request)) {
    const std::int64_t head_dim = head_dim_for(d, request.shape);
    if (head_dim == 0) continue;
    for (const std::int64_t g : granularities_of(request)) {
      if ((4 * d) % g != 0) continue;
      Column col;
      col.d = d;
      col.heads = d / head_dim;
      col.g = g;
      col.k = b.dense ? 1 : request.overrides.top_k.value_or(g);
      if (request.overrides.experts && *request.overrides.experts < col.k) continue;
      col.layers = request.shape.discrete_layers(d);
      if (request.cap.cluster)
        col.options = tensor_pipeline_options(
            *request.cap.cluster, {d, col.layers, col.heads, 1, 4 * d / g, request.shape.context});
      columns.emplace_back(col, search_column(col, request, b, result));
    }
  }
  // Pass 2: the other depths of the range, for the (d, G) within kDepthSearchMargin of the best
  // (or with nothing that fits at the default depth), walking away from the default depth.
  const double best = result.best ? result.feasible[*result.best].rank : 0.0;
  std::vector<double> ranks;
  for (const auto& column : columns) ranks.push_back(column.second.rank);
  std::sort(ranks.begin(), ranks.end());
  const double cutoff =
      std::min(best + kDepthSearchMargin, ranks[std::min(ranks.size(), kDepthSearchColumns) - 1]);
  for (const auto& [col, found] : columns) {
    const LayerRange range = request.shape.discrete_layer_range(col.d);
    if (range.first == range.last) continue;
    const bool none_fit = found.rank == std::numeric_limits<double>::infinity();
    if (!none_fit && found.rank > cutoff) continue;
    if (!none_fit) walk_depths(col, +1, range, found, request, b, result);
    walk_depths(col, -1, range, found, request, b, result);
  }
  walk_from_best_aspect(columns, request, b, result);
  return result;
}

}  // namespace

SearchResult search_architectures(const PlanRequest& request) {
  if (!request.cap.cluster ||
      (request.cap.cluster->fixed.tensor && request.cap.cluster->fixed.pipeline))
    return search_one_tier(request);
  std::optional<SearchResult> first;
  for (const TensorPipeline& tier : layout_tiers(*request.cap.cluster)) {
    PlanRequest tiered = request;
    tiered.cap.cluster->fixed.tensor = tier.tensor;
    tiered.cap.cluster->fixed.pipeline = tier.pipeline;
    SearchResult result = search_one_tier(tiered);
    if (result.best) return result;
    if (!first) first = std::move(result);  // for the "cap too small" message
  }
  return first ? std::move(*first) : search_one_tier(request);
}

}  // namespace moeplan::planner
