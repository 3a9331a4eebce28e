#include "planner/continuous_optimum.h"

#include "util/dlib.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "law/memory.h"
#include "law/sharded_memory.h"
#include "util/error.h"

namespace moeplan::planner {
namespace {

constexpr double kInfeasibleLoss = 1e6;  // objective outside the feasible set
constexpr int kGridSparsity = 49;
constexpr int kGridSize = 41;
constexpr int kSliceGrid = 97;

double log_interpolate(double lo, double hi, double u) {
  return std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo)));
}

// Refines a 1-D grid minimum by golden-section search between the grid neighbours (the loss is
// unimodal there; dlib's single-variable search stopped early on these flat minima).
template <typename F>
double refine_1d(const F& f, const std::vector<double>& xs, std::size_t best_index,
                 const std::vector<bool>& ok) {
  double lo = best_index > 0 && ok[best_index - 1] ? xs[best_index - 1] : xs[best_index];
  double hi =
      best_index + 1 < xs.size() && ok[best_index + 1] ? xs[best_index + 1] : xs[best_index];
  if (hi - lo <= 0) return xs[best_index];
  const double ratio = (std::sqrt(5.0) - 1) / 2;
  double x1 = hi - ratio * (hi - lo), x2 = lo + ratio * (hi - lo);
  double f1 = f(x1), f2 = f(x2);
  for (int i = 0; i < 80 && hi - lo > 1e-14; ++i) {
    if (f1 <= f2) {
      hi = x2, x2 = x1, f2 = f1;
      x1 = hi - ratio * (hi - lo), f1 = f(x1);
    } else {
      lo = x1, x1 = x2, f1 = f2;
      x2 = lo + ratio * (hi - lo), f2 = f(x2);
    }
  }
  double refined = f1 <= f2 ? x1 : x2;
  // Snap to the bounds of the whole range (golden sections never quite reach them).
  const double snap = 1e-9 * (xs.back() - xs.front());
  if (refined - xs.front() < snap) refined = xs.front();
  if (xs.back() - refined < snap) refined = xs.back();
  return std::min(f1, f2) <= f(xs[best_index]) ? refined : xs[best_index];
}

}  // namespace

ContinuousProblem::ContinuousProblem(const PlanRequest& request) : request_(request) {
  if (request.mode == PlanMode::kFixedSparsity) {
    min_sparsity_ = max_sparsity_ = request.target_sparsity;
  } else {
    min_sparsity_ = effective_min_sparsity(request);
    max_sparsity_ = effective_max_sparsity(request);
  }
  min_params_ = continuous_shape_at_width(64, 0, request.shape).total_params;
}

ContinuousPoint ContinuousProblem::at(double total_params, double sparsity) const {
  const ContinuousShape shape = continuous_shape(total_params, sparsity, request_.shape);
  ContinuousPoint p;
  p.total_params = total_params;
  p.active_params = shape.active_params;
  p.sparsity = sparsity;
  p.flops_per_token = continuous_flops_per_token(shape, request_.shape, request_.flops_method);
  p.tokens = request_.budget.flops / p.flops_per_token;
  p.loss = law::predict_loss(request_.law, total_params, p.tokens, sparsity);
  p.d_model = shape.d_model;
  p.n_layers = shape.n_layers;
  return p;
}

double ContinuousProblem::memory_bytes(double total_params, double sparsity) const {
  const ContinuousShape s = continuous_shape(total_params, sparsity, request_.shape);
  if (!request_.cap.cluster)
    return law::memory_per_device(total_params, s.n_layers, s.d_model, s.n_heads,
                                  static_cast<double>(request_.shape.context), request_.cap.setup)
        .per_device_bytes();
  // On a cluster: the given degrees, else no TP/PP and the experts sharded over all of DP.
  law::ShardedParams p;
  p.experts = s.n_layers * s.experts * 3.0 * s.d_model * (4.0 * s.d_model);
  p.embedding_table = s.embedding_params / 2;
  p.layers_dense = s.total_params - p.experts - s.embedding_params - s.d_model;
  p.n_layers = s.n_layers;
  p.d_model = s.d_model;
  p.n_heads = s.n_heads;
  p.context = static_cast<double>(request_.shape.context);
  const ClusterRequest& c = *request_.cap.cluster;
  law::ParallelDegrees g;
  g.tensor = c.fixed.tensor.value_or(1);
  g.pipeline = c.fixed.pipeline.value_or(1);
  g.data = c.devices / (g.tensor * g.pipeline);
  g.expert = c.fixed.expert.value_or(g.data);
  return law::sharded_memory_per_device(p, g, request_.cap.setup).per_device_bytes();
}

double ContinuousProblem::params_ceiling() const {
  return request_.cap.max_params ? std::min(*request_.cap.max_params, kUncappedMaxParams)
                                 : kUncappedMaxParams;
}

double ContinuousProblem::max_params(double sparsity) const {
  const double ceiling = params_ceiling();
  if (ceiling < min_params_) return 0;
  if (!request_.cap.bytes_per_device) return ceiling;
  const double cap = *request_.cap.bytes_per_device;
  if (memory_bytes(min_params_, sparsity) > cap) return 0;
  if (memory_bytes(ceiling, sparsity) <= cap) return ceiling;
  double lo = min_params_, hi = ceiling;
  for (int i = 0; i < 60; ++i) {
    const double mid = std::sqrt(lo * hi);
    if (memory_bytes(mid, sparsity) <= cap)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

bool ContinuousProblem::fits(double total_params, double sparsity) const {
  if (request_.cap.max_params && total_params > *request_.cap.max_params) return false;
  if (request_.cap.bytes_per_device &&
      memory_bytes(total_params, sparsity) > *request_.cap.bytes_per_device)
    return false;
  return true;
}

BindingConstraints ContinuousProblem::binding_at(const ContinuousPoint& p, bool respect_cap) const {
  BindingConstraints b;
  if (respect_cap && request_.cap.any()) {
    const double n_max = max_params(p.sparsity);
    if (n_max > 0 && p.total_params >= n_max * (1 - 1e-4)) {
      if (request_.cap.max_params && *request_.cap.max_params <= n_max * (1 + 1e-9))
        b.max_params = true;
      else
        b.memory = true;
    }
  }
  if (max_sparsity_ > min_sparsity_) {
    b.max_sparsity = p.sparsity >= max_sparsity_ - 1e-4;
    b.min_sparsity = min_sparsity_ > 0 && p.sparsity <= min_sparsity_ + 1e-4;
  }
  return b;
}

std::optional<ContinuousOptimum> ContinuousProblem::optimum(bool respect_cap) const {
  // A single sparsity (dense law, or equal bounds): the 1-D problem in N.
  if (max_sparsity_ - min_sparsity_ < 1e-12) return optimum_at_sparsity(min_sparsity_, respect_cap);
  const double n_min = min_params_;
  auto n_max_at = [&](double s) { return respect_cap ? max_params(s) : kUncappedMaxParams; };
  // The objective over (u, S); N_max(S) makes the memory cap a box constraint.
  auto loss_at = [&](double u, double s) {
    const double n_max = n_max_at(s);
    if (n_max < n_min) return kInfeasibleLoss;
    return at(log_interpolate(n_min, n_max, u), s).loss;
  };
  double best_u = 0, best_s = min_sparsity_, best = std::numeric_limits<double>::infinity();
  for (int i = 0; i <= kGridSparsity; ++i) {
    const double s = min_sparsity_ + (max_sparsity_ - min_sparsity_) * i / kGridSparsity;
    const double n_max = n_max_at(s);
    if (n_max < n_min) continue;
    for (int j = 0; j <= kGridSize; ++j) {
      const double u = static_cast<double>(j) / kGridSize;
      const double l = at(log_interpolate(n_min, n_max, u), s).loss;
      if (l < best) best = l, best_u = u, best_s = s;
    }
  }
  if (!std::isfinite(best)) return std::nullopt;  // nothing fits the cap at any sparsity

  using column_vector = dlib::matrix<double, 0, 1>;
  auto objective = [&](const column_vector& x) { return loss_at(x(0), x(1)); };
  column_vector x(2), lower(2), upper(2);
  x = best_u, best_s;
  lower = 0.0, min_sparsity_;
  upper = 1.0, max_sparsity_;
  try {
    dlib::find_min_box_constrained(dlib::lbfgs_search_strategy(10),
                                   dlib::objective_delta_stop_strategy(1e-13, 500), objective,
                                   dlib::derivative(objective, 1e-7), x, lower, upper);
  } catch (const std::exception&) {
    x = best_u, best_s;  // keep the grid point
  }
  double u = std::clamp(x(0), 0.0, 1.0), s = std::clamp(x(1), min_sparsity_, max_sparsity_);
  if (!(loss_at(u, s) <= best)) u = best_u, s = best_s;
  ContinuousOptimum o;
  o.point = at(log_interpolate(n_min, n_max_at(s), u), s);
  o.binding = binding_at(o.point, respect_cap);
  return o;
}

std::optional<ContinuousOptimum> ContinuousProblem::optimum_at_params(double total_params,
                                                                      bool respect_cap) const {
  std::vector<double> xs;
  std::vector<bool> ok;
  const int points = max_sparsity_ > min_sparsity_ ? kSliceGrid : 1;
  std::size_t best_index = 0;
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < points; ++i) {
    const double s = points == 1
                         ? min_sparsity_
                         : min_sparsity_ + (max_sparsity_ - min_sparsity_) * i / (points - 1);
    const bool feasible = !respect_cap || fits(total_params, s);
    xs.push_back(s);
    ok.push_back(feasible);
    if (!feasible) continue;
    const double l = at(total_params, s).loss;
    if (l < best) best = l, best_index = xs.size() - 1;
  }
  if (!std::isfinite(best)) return std::nullopt;
  auto f = [&](double s) { return at(total_params, s).loss; };
  ContinuousOptimum o;
  o.point = at(total_params, refine_1d(f, xs, best_index, ok));
  o.binding = binding_at(o.point, respect_cap);
  o.binding.memory = o.binding.max_params = false;  // N is given, not chosen
  return o;
}

std::optional<ContinuousOptimum> ContinuousProblem::optimum_at_sparsity(double sparsity,
                                                                        bool respect_cap) const {
  const double n_min = min_params_;
  const double n_max = respect_cap ? max_params(sparsity) : kUncappedMaxParams;
  if (n_max < n_min) return std::nullopt;
  std::vector<double> us;
  std::vector<bool> ok;
  std::size_t best_index = 0;
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < kSliceGrid; ++i) {
    const double u = static_cast<double>(i) / (kSliceGrid - 1);
    us.push_back(u);
    ok.push_back(true);
    const double l = at(log_interpolate(n_min, n_max, u), sparsity).loss;
    if (l < best) best = l, best_index = us.size() - 1;
  }
  auto f = [&](double u) { return at(log_interpolate(n_min, n_max, u), sparsity).loss; };
  ContinuousOptimum o;
  o.point = at(log_interpolate(n_min, n_max, refine_1d(f, us, best_index, ok)), sparsity);
  o.binding = binding_at(o.point, respect_cap);
  o.binding.max_sparsity = o.binding.min_sparsity = false;  // S is given, not chosen
  return o;
}

}  // namespace moeplan::planner
