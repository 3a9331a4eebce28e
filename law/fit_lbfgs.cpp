#include "law/fit_lbfgs.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <thread>

#include "util/dlib.h"
#include "util/error.h"

namespace moeplan::law {
namespace {

template <long kDim>
using Vec = dlib::matrix<double, kDim, 1>;

// dlib asks for the value at each line-search point and for the gradient only at the accepted
// one, so the gradient is finished from the value's workspace on demand, and both are cached.
template <long kDim>
class CachedObjective {
 public:
  explicit CachedObjective(const FitObjective& objective) : objective_(objective) {}
  double value(const Vec<kDim>& x) const {
    if (valid_ && x == x_) return f_;
    x_ = x;
    f_ = objective_.value(&x(0), workspace_);
    valid_ = true;
    gradient_valid_ = false;
    return f_;
  }
  Vec<kDim> gradient(const Vec<kDim>& x) const {
    value(x);
    if (!gradient_valid_) {
      objective_.gradient(&x(0), workspace_, &g_(0));
      gradient_valid_ = true;
    }
    return g_;
  }

 private:
  const FitObjective& objective_;
  mutable FitObjective::Workspace workspace_;
  mutable Vec<kDim> x_, g_;
  mutable double f_ = 0;
  mutable bool valid_ = false, gradient_valid_ = false;
};

// dlib's lbfgs_search_strategy with the history in fixed-size arrays. dlib's keeps it in a
// heap-allocated sequence of dynamic vectors, one node allocated and one freed per iteration,
// which was 15% of `law fit`'s time. The arithmetic is dlib's, operation for operation (its
// version of Nocedal & Wright's Alg. 7.4: a pair with |sᵀy| ≤ ε clears the history,
// H₀ = sᵀy/yᵀy clamped to [0.001, 1000], the oldest pair dropped after the direction is
// computed, so up to memory + 1 pairs are used), so the iterates are the same (tested).
template <long kDim>
class FixedSizeLbfgs {
 public:
  explicit FixedSizeLbfgs(int memory) : memory_(memory) {}
  double get_wolfe_rho() const { return 0.01; }
  double get_wolfe_sigma() const { return 0.9; }
  unsigned long get_max_line_search_iterations() const { return 100; }

  template <typename T>
  const Vec<kDim>& get_next_direction(const Vec<kDim>& x, double /*f*/, const T& gradient) {
    Vec<kDim> g;
    for (long k = 0; k < kDim; ++k) g(k) = gradient(k);
    for (long k = 0; k < kDim; ++k) direction_(k) = -g(k);
    if (!started_) {
      started_ = true;
    } else {
      Pair& next = history_[(first_ + size_) % kSlots];
      for (long k = 0; k < kDim; ++k) {
        next.s[k] = x(k) - previous_x_(k);
        next.y[k] = g(k) - previous_g_(k);
      }
      const double sy = dot(next.s, next.y);
      if (std::abs(sy) > std::numeric_limits<double>::epsilon()) {
        next.rho = 1 / sy;
        ++size_;
      } else {
        size_ = 0;
      }
      if (size_ > 0) {
        double alpha[kSlots];
        for (int i = size_ - 1; i >= 0; --i) {
          const Pair& p = at(i);
          alpha[i] = p.rho * dot(p.s, direction_);
          for (long k = 0; k < kDim; ++k) direction_(k) = direction_(k) - alpha[i] * p.y[k];
        }
        const Pair& last = at(size_ - 1);
        double h0 = 1.0 / last.rho / dot(last.y, last.y);
        h0 = std::clamp(h0, 0.001, 1000.0);
        for (long k = 0; k < kDim; ++k) direction_(k) = direction_(k) * h0;
        for (int i = 0; i < size_; ++i) {
          const Pair& p = at(i);
          const double beta = p.rho * dot(p.y, direction_);
          for (long k = 0; k < kDim; ++k)
            direction_(k) = direction_(k) + p.s[k] * (alpha[i] - beta);
        }
      }
    }
    if (size_ > memory_) {  // drop the oldest pair
      first_ = (first_ + 1) % kSlots;
      --size_;
    }
    previous_x_ = x;
    previous_g_ = g;
    return direction_;
  }

 private:
  static constexpr int kSlots = 64;  // memory + 1 pairs at most (memory ≤ 63, checked)
  struct Pair {
    double s[kDim], y[kDim], rho;
  };
  const Pair& at(int i) const { return history_[(first_ + i) % kSlots]; }
  // dlib's dot: a plain sum in index order.
  static double dot(const double* a, const double* b) {
    double sum = 0;
    for (long k = 0; k < kDim; ++k) sum += a[k] * b[k];
    return sum;
  }
  static double dot(const double* a, const Vec<kDim>& b) {
    double sum = 0;
    for (long k = 0; k < kDim; ++k) sum += a[k] * b(k);
    return sum;
  }
  int memory_;
  bool started_ = false;
  Pair history_[kSlots];
  int first_ = 0, size_ = 0;
  Vec<kDim> previous_x_, previous_g_, direction_;
};

// LocalFitOptions' rule, checked by dlib before each iteration.
template <long kDim>
class StopRule {
 public:
  // dlib takes the rule by value, so the count lives outside it.
  StopRule(const LocalFitOptions& options, const Bounds& bounds, int& iterations)
      : options_(options), bounds_(bounds), iterations_(iterations) {}
  bool should_continue_search(const Vec<kDim>& x, double f, const Vec<kDim>& g) {
    if (iterations_ >= options_.max_iterations) return false;
    if (options_.gradient_tolerance > 0) {
      // scipy's projected gradient: the step x − g clipped to the box, minus x.
      double norm = 0;
      for (long k = 0; k < kDim; ++k)
        norm = std::max(
            norm, std::fabs(std::clamp(x(k) - g(k), bounds_.lower[k], bounds_.upper[k]) - x(k)));
      if (norm <= options_.gradient_tolerance) return false;
    }
    if (iterations_ > 0) {
      const double scale =
          std::max({std::fabs(previous_), std::fabs(f), options_.function_scale_floor});
      if (previous_ - f <= options_.function_tolerance * scale) return false;
    }
    previous_ = f;
    ++iterations_;
    return true;
  }

 private:
  const LocalFitOptions& options_;
  const Bounds& bounds_;
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
  Vec<kDim> x =
      dlib::clamp(to_vec<kDim>(start), to_vec<kDim>(bounds.lower), to_vec<kDim>(bounds.upper));
  LocalFit fit;
  StopRule<kDim> stop(options, bounds, fit.iterations);
  const auto value = [&](const Vec<kDim>& v) { return cached.value(v); };
  const auto gradient = [&](const Vec<kDim>& v) { return cached.gradient(v); };
  if (options.dlib_search_strategy)
    fit.objective = dlib::find_min_box_constrained(
        dlib::lbfgs_search_strategy(options.lbfgs_memory), stop, value, gradient, x,
        to_vec<kDim>(bounds.lower), to_vec<kDim>(bounds.upper));
  else
    fit.objective = dlib::find_min_box_constrained(FixedSizeLbfgs<kDim>(options.lbfgs_memory), stop,
                                                   value, gradient, x, to_vec<kDim>(bounds.lower),
                                                   to_vec<kDim>(bounds.upper));
  fit.theta = to_theta<kDim>(x);
  return fit;
}

}  // namespace

LocalFitOptions polish_options() {
  LocalFitOptions options;
  options.function_tolerance = 1e-10;
  options.function_scale_floor = 0;
  options.gradient_tolerance = 0;
  options.max_iterations = 5000;
  return options;
}

LocalFit minimise_from(const FitObjective& objective, const Theta& start, const Bounds& bounds,
                       const LocalFitOptions& options) {
  if (options.lbfgs_memory < 1 || options.lbfgs_memory > 63)
    fail("fit: L-BFGS memory must be in [1, 63], not ", options.lbfgs_memory);
  return objective.dimension() == 10 ? minimise<10>(objective, start, bounds, options)
                                     : minimise<5>(objective, start, bounds, options);
}

namespace {

// Adds `fit` to the best distinct local optima, best first (ties: the one already there stays).
void add_leader(std::vector<LocalFit>& leaders, const LocalFit& fit, int dim) {
  for (auto it = leaders.begin(); it != leaders.end(); ++it) {
    double distance = 0;
    for (int k = 0; k < dim; ++k)
      distance = std::max(distance, std::fabs(it->theta[k] - fit.theta[k]));
    if (distance <= 1e-3) {
      if (fit.objective < it->objective) {
        leaders.erase(it);
        break;
      }
      return;
    }
  }
  auto at = std::upper_bound(
      leaders.begin(), leaders.end(), fit,
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

// Minimises from one start and records it in `into` (or counts it failed).
void run_start(const FitObjective& objective, const Theta& start, const Bounds& bounds,
               const LocalFitOptions& options, MultiStartFit& into) {
  ++into.starts;
  LocalFit fit;
  if (!try_minimise(objective, start, bounds, options, fit)) {
    ++into.failed_starts;
    return;
  }
  into.total_iterations += fit.iterations;
  if (fit.objective < into.objective) {
    into.objective = fit.objective;
    into.best = fit.theta;
  }
  add_leader(into.leaders, fit, objective.dimension());
}

// Runs work(0) on the calling thread and work(1..threads−1) on new ones, then joins them.
void run_on_threads(unsigned threads, const std::function<void(unsigned)>& work) {
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& thread : pool) thread.join();
}

}  // namespace

std::vector<Theta> all_starts(const StartGrid& grid) {
  std::vector<Theta> starts;
  starts.reserve(grid.size());
  for (std::size_t i = 0; i < grid.size(); ++i) starts.push_back(grid.start(i));
  return starts;
}

namespace {

// Polishes the leaders (leader i on thread i mod threads), then takes the best: the result does
// not depend on the thread count. A polish that fails keeps the leader as it was.
void polish_leaders(const FitObjective& objective, const Bounds& bounds,
                    const LocalFitOptions& options, unsigned threads, MultiStartFit& fit) {
  fit.grid_objective = fit.objective;
  std::vector<LocalFit> polished = fit.leaders;
  auto worker = [&](unsigned t) {
    for (std::size_t i = t; i < polished.size(); i += threads) {
      LocalFit better;
      if (try_minimise(objective, fit.leaders[i].theta, bounds, options, better) &&
          better.objective <= fit.leaders[i].objective)
        polished[i] = better;
      else
        polished[i].iterations = 0;
    }
  };
  run_on_threads(threads, worker);  // with 8 leaders, threads past 8 find no work
  fit.leaders.clear();
  for (const LocalFit& leader : polished) {
    fit.polish_iterations += leader.iterations;
    if (leader.objective < fit.objective) {  // ties: the grid's best (or earlier leader) stays
      fit.objective = leader.objective;
      fit.best = leader.theta;
    }
    add_leader(fit.leaders, leader, objective.dimension());
  }
}

}  // namespace

MultiStartFit fit_exhaustive(const FitObjective& objective, const std::vector<Theta>& starts,
                             const Bounds& bounds, const MultiStartOptions& options) {
  MultiStartFit result;
  result.objective = std::numeric_limits<double>::infinity();
  for (const Theta& start : starts) run_start(objective, start, bounds, options.local, result);
  polish_leaders(objective, bounds, options.polish, 1, result);
  return result;
}

MultiStartFit fit_multistart(const FitObjective& objective, const std::vector<Theta>& starts,
                             const Bounds& bounds, const MultiStartOptions& options) {
  const unsigned threads = std::max(1u, options.threads);
  // Blocks of starts handed out one at a time (starts differ up to 100× in cost, so fixed
  // chunks leave a thread idle), each block's result kept in its slot and merged in block
  // order: the result does not depend on timing or the thread count.
  constexpr std::size_t kBlock = 64;
  const std::size_t block_count = (starts.size() + kBlock - 1) / kBlock;
  std::vector<MultiStartFit> blocks(block_count);
  std::atomic<std::size_t> next{0}, done{0};
  run_on_threads(threads, [&](unsigned thread) {
    for (std::size_t b = next++; b < block_count; b = next++) {
      MultiStartFit& mine = blocks[b];
      mine.objective = std::numeric_limits<double>::infinity();
      for (std::size_t i = b * kBlock; i < std::min(starts.size(), (b + 1) * kBlock); ++i)
        run_start(objective, starts[i], bounds, options.local, mine);
      done += mine.starts;
      if (thread == 0 && options.progress) options.progress(done, starts.size());
    }
  });
  MultiStartFit result;
  result.objective = std::numeric_limits<double>::infinity();
  for (const MultiStartFit& block : blocks) {
    result.starts += block.starts;
    result.total_iterations += block.total_iterations;
    result.failed_starts += block.failed_starts;
    for (const LocalFit& leader : block.leaders)
      add_leader(result.leaders, leader, objective.dimension());
    if (block.objective < result.objective) {  // ties: the earlier start wins
      result.objective = block.objective;
      result.best = block.best;
    }
  }
  polish_leaders(objective, bounds, options.polish, threads, result);
  return result;
}

}  // namespace moeplan::law
