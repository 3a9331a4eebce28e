#pragma once
// SPEC §3 step 2: the concrete architecture. A global exhaustive search of the discrete space
// (so a larger cap can never predict a higher loss):
//   d_model: multiples of 64 below 1024, of 128 from 1024 to 16384 (or --d-model);
//   n_layers: every depth of planner/shape_rule.h's aspect-ratio range (or the override),
//   heads: planner/shape_rule.h; G ∈ {1, 2, 4, 8} (or --granularity);
//   K = G, i.e. active expert width K·4d/G = 4d (or --top-k); E ∈ [K, 1024] (or --experts)
//   with S = 1 - K/E inside the sparsity bounds; E = K = G = 1 is the dense model (E = K > 1,
//   all experts active, is the same computation and is skipped unless --experts/--top-k ask).
// Under --sparsity only the E/K nearest the requested S (exactly S when one exists) are tried.
// Exact counts from law::count_params, D = C / flops_per_token, loss by Eq. 6; feasible when
// the model sees at least one context of tokens, the memory per device fits the cap (on a
// cluster: under the parallel layout planner/parallel_layout.h picks or the flags fix, whose
// rules the shape must meet) and N <= --max-params. Best loss wins; ties (|ΔL| < 1e-9) go to
// fewer active parameters.
#include <cstdint>
#include <optional>
#include <vector>

#include "law/architecture.h"
#include "planner/plan_request.h"

namespace moeplan::planner {

inline constexpr std::int64_t kMaxExperts = 1024;
inline constexpr std::int64_t kMaxDModel = 16384;
inline constexpr double kLossTie = 1e-9;
// The depth search (see search_architectures): which (d, G) get depths other than round(d/128),
// and when a walk over depths gives up.
inline constexpr double kDepthSearchMargin = 0.02;      // nats above the best at the default depth
inline constexpr std::size_t kDepthSearchColumns = 64;  // and at most the best 64 (d, G)
inline constexpr int kDepthWorseSteps = 3;
inline constexpr double kDepthHintMargin = 0.1;  // pass 3: nats above the best so far
// ... and walks E within ±1/4 of the best E of the previous depth (all E at the default depth).
inline constexpr std::int64_t kDepthExpertWindow = 4;

// One feasible point of the discrete space, compact (there can be ~500k of them).
struct Candidate {
  double loss = 0;  // Eq. 6 at (N, D, S)
  // What the search ranks by: the loss, except under --params, where it is Eq. 6 at the
  // requested N with this candidate's S and N_a/N (so the ±5% size jitter of the grid does not
  // decide the sparsity), and under --sparsity Eq. 6 at the requested S (likewise for the
  // ±0.005 sparsity jitter).
  double rank = 0;
  double tokens = 0;
  double memory_bytes = 0;  // per device
  std::int64_t total_params = 0;
  std::int64_t active_params = 0;
  std::int32_t d_model = 0, n_layers = 0, n_heads = 0;
  std::int32_t experts = 1, top_k = 1, granularity = 1;
  double sparsity() const { return 1.0 - static_cast<double>(top_k) / experts; }
};

struct SearchResult {
  // The feasible candidates the report can use: in the optimum mode only those within the
  // alternatives' loss window (planner/pareto.h) of the best when they were found.
  std::vector<Candidate> feasible;
  std::size_t feasible_count = 0;   // all feasible candidates seen
  std::optional<std::size_t> best;  // index into `feasible`
  std::size_t evaluated = 0;        // architectures counted (mode filter passed)
  // The cheapest (least memory) architecture the mode allows, fitting or not: for the
  // "cap too small" message.
  std::optional<law::MoeArchitecture> smallest;
  double smallest_memory_bytes = 0;
  std::int64_t smallest_total_params = 0;
  // On a cluster: the request the candidates were searched under, with the tensor and pipeline
  // parallelism the planner settled on (see search_architectures); describe models with it.
  PlanRequest searched;
};

// The d_model values searched (or the single --d-model).
std::vector<std::int64_t> d_model_grid(const PlanRequest& request);

// Under --sparsity: the distance from the requested S to the nearest S = 1 - K/E the search
// space has (0 when one is exact).
double nearest_sparsity_gap(const PlanRequest& request);

// Pass 1 searches every (d, G) at the default depth, as the fixed aspect ratio 128 would, so the
// free depth never predicts a worse loss; pass 2 walks the other depths of the aspect-ratio
// range from there, for the (d, G) within kDepthSearchMargin of the best so far and among the
// kDepthSearchColumns best at the default depth (and those where
// nothing fits at the default depth), up and down until kDepthWorseSteps depths in a row bring
// no improvement (up also stops when nothing fits); pass 3 tries every (d, G) at the best aspect
// ratio so far and walks the kDepthSearchColumns best of those within kDepthHintMargin. Pruned,
// so not exhaustive over depths.
// On a cluster without --tensor-parallel/--pipeline-parallel, the (TP, PP) tiers are tried in
// order of least model parallelism (TP before PP), each for the whole space, and the first
// under which anything fits is kept: TP and PP only when the model needs them.
SearchResult search_architectures(const PlanRequest& request);

// The full architecture of a candidate (paper family, expert_hidden = 4·d/G).
law::MoeArchitecture to_architecture(const Candidate& candidate, const PlanRequest& request);

// True when `a` is better than `b`: lower rank (loss), ties to fewer active parameters.
bool better_candidate(const Candidate& a, const Candidate& b);

}  // namespace moeplan::planner
