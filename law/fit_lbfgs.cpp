#include "law/fit_lbfgs.h"

#include <dlib/optimization.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

namespace moeplan::law {
namespace {

template <long kDim>
using Vec = dlib::matrix<double, kDim, 1>;

// Value and gradient come from one pass over the runs; dlib asks for them separately (value in
// the line search, gradient at the accepted point), so the last gradient is cached.
template <long kDim>
class CachedObjective {
 public:
  explicit CachedObjective(const FitObjective& objective) : objective_(objective) {}
  double value(const Vec<kDim>& x) const {
    if (valid_ && x == x_) return f_;
    x_ = x;
    f_ = objective_.evaluate(&x(0), &g_(0));
    valid_ = true;
    ++evaluations_;
    return f_;
  }
  Vec<kDim> gradient(const Vec<kDim>& x) const {
    value(x);
    return g_;
  }
  long evaluations() const { return evaluations_; }

 private:
  const FitObjective& objective_;
  mutable Vec<kDim> x_, g_;
  mutable double f_ = 0;
  mutable bool valid_ = false;
  mutable long evaluations_ = 0;
};

// Stops on a small relative decrease of the objective or at the iteration cap.
template <long kDim>
class StopRule {
 public:
  // dlib takes the rule by value, so the count lives outside it.
  StopRule(const LocalFitOptions& options, int& iterations)
      : options_(options), iterations_(iterations) {}
  bool should_continue_search(const Vec<kDim>& /*x*/, double f, const Vec<kDim>& /*g*/) {
    if (iterations_ >= options_.max_iterations) return false;
    if (iterations_ > 0 && previous_ - f <= options_.relative_tolerance * std::fabs(f))
      return false;
    previous_ = f;
    ++iterations_;
    return true;
  }

 private:
  const LocalFitOptions& options_;
  int& iterations_;
  double previous_ = 0;
};

template <long kDim>
Vec<kDim> to_vec(const Theta& theta) {
  Vec<kDim> v;
  for (long k = 0; k < kDim; ++k) v(k) = theta[k];
  return v;
}

template <long kDim>
Theta to_theta(const Vec<kDim>& v) {
  Theta theta{};
  for (long k = 0; k < kDim; ++k) theta[k] = v(k);
  return theta;
}

template <long kDim>
LocalFit minimise(const FitObjective& objective, const Theta& start, const Bounds& bounds,
                  const LocalFitOptions& options) {
  CachedObjective<kDim> cached(objective);
  Vec<kDim> x = dlib::clamp(to_vec<kDim>(start), to_vec<kDim>(bounds.lower),
                            to_vec<kDim>(bounds.upper));
  LocalFit fit;
  StopRule<kDim> stop(options, fit.iterations);
  fit.objective = dlib::find_min_box_constrained(
      dlib::lbfgs_search_strategy(options.lbfgs_memory), stop,
      [&](const Vec<kDim>& v) { return cached.value(v); },
      [&](const Vec<kDim>& v) { return cached.gradient(v); }, x, to_vec<kDim>(bounds.lower),
      to_vec<kDim>(bounds.upper));
  fit.theta = to_theta<kDim>(x);
  return fit;
}

}  // namespace

LocalFit minimise_from(const FitObjective& objective, const Theta& start, const Bounds& bounds,
                       const LocalFitOptions& options) {
  return objective.dimension() == 10 ? minimise<10>(objective, start, bounds, options)
                                     : minimise<5>(objective, start, bounds, options);
}

namespace {

// Adds `fit` to the best distinct local optima, best first (ties: the one already there stays).
void add_leader(std::vector<LocalFit>& leaders, const LocalFit& fit, int dim) {
  for (auto it = leaders.begin(); it != leaders.end(); ++it) {
    double distance = 0;
    for (int k = 0; k < dim; ++k) distance = std::max(distance, std::fabs(it->theta[k] - fit.theta[k]));
    if (distance <= 1e-3) {
      if (fit.objective < it->objective) {
        leaders.erase(it);
        break;
      }
      return;
    }
  }
  auto at = std::upper_bound(leaders.begin(), leaders.end(), fit,
                             [](const LocalFit& x, const LocalFit& y) { return x.objective < y.objective; });
  leaders.insert(at, fit);
  if (leaders.size() > kLeaderCount) leaders.pop_back();
}

// One start; a dlib error (non-finite objective) marks it failed instead of aborting the fit.
bool try_minimise(const FitObjective& objective, const Theta& start, const Bounds& bounds,
                  const LocalFitOptions& options, LocalFit& fit) {
  try {
    fit = minimise_from(objective, start, bounds, options);
    return std::isfinite(fit.objective);
  } catch (const dlib::error&) {
    return false;
  }
}

void record(MultiStartFit& into, const LocalFit& fit, int dim) {
  into.total_iterations += fit.iterations;
  if (fit.objective < into.objective) {
    into.objective = fit.objective;
    into.best = fit.theta;
  }
  add_leader(into.leaders, fit, dim);
}

}  // namespace

std::vector<Theta> all_starts(const StartGrid& grid) {
  std::vector<Theta> starts;
  starts.reserve(grid.size());
  for (std::size_t i = 0; i < grid.size(); ++i) starts.push_back(grid.start(i));
  return starts;
}

MultiStartFit fit_exhaustive(const FitObjective& objective, const std::vector<Theta>& starts,
                             const Bounds& bounds, const LocalFitOptions& options) {
  MultiStartFit result;
  result.objective = std::numeric_limits<double>::infinity();
  for (const Theta& start : starts) {
    LocalFit fit;
    if (try_minimise(objective, start, bounds, options, fit)) record(result, fit, objective.dimension());
    else ++result.failed_starts;
  }
  result.starts = starts.size();
  return result;
}

MultiStartFit fit_multistart(const FitObjective& objective, const std::vector<Theta>& starts,
                             const Bounds& bounds, const MultiStartOptions& options) {
  const unsigned threads = std::max(1u, options.threads);
  std::vector<MultiStartFit> partial(threads);
  // Static contiguous chunks: the result does not depend on timing or the thread count.
  auto worker = [&](unsigned t) {
    MultiStartFit& mine = partial[t];
    mine.objective = std::numeric_limits<double>::infinity();
    const std::size_t begin = starts.size() * t / threads;
    const std::size_t end = starts.size() * (t + 1) / threads;
    for (std::size_t i = begin; i < end; ++i) {
      LocalFit fit;
      ++mine.starts;
      if (try_minimise(objective, starts[i], bounds, options.local, fit))
        record(mine, fit, objective.dimension());
      else
        ++mine.failed_starts;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& th : pool) th.join();
  MultiStartFit result = partial[0];
  for (unsigned t = 1; t < threads; ++t) {
    result.starts += partial[t].starts;
    result.total_iterations += partial[t].total_iterations;
    result.failed_starts += partial[t].failed_starts;
    for (const LocalFit& leader : partial[t].leaders)
      add_leader(result.leaders, leader, objective.dimension());
    if (partial[t].objective < result.objective) {  // ties: the earlier start wins
      result.objective = partial[t].objective;
      result.best = partial[t].best;
    }
  }
  return result;
}

}  // namespace moeplan::law
