#include "law/isoflop_surface.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "law/run_budget.h"
#include "util/error.h"

namespace moeplan::law {
namespace {

int coefficient_count(const SurfaceDegrees& g) { return 1 + g.params + g.sparsity + g.interaction; }

double round_2_digits(double x) {
  const double scale = std::pow(10.0, std::floor(std::log10(x)) - 1);
  return std::round(x / scale) * scale;
}

Range range_of(const std::vector<FitRun>& runs, double FitRun::*field) {
  Range r{runs.front().*field, runs.front().*field};
  for (const auto& run : runs) r.lo = std::min(r.lo, run.*field), r.hi = std::max(r.hi, run.*field);
  return r;
}

double mse_on(const IsoflopSurface& s, const std::vector<FitRun>& runs) {
  double sum = 0;
  for (const auto& r : runs) {
    const double e = s.predict(r.total_params, r.sparsity) - r.loss;
    sum += e * e;
  }
  return runs.empty() ? 0 : sum / static_cast<double>(runs.size());
}

}  // namespace

std::vector<double> surface_features(double total_params, double sparsity, const SurfaceDegrees& g) {
  const double n = std::log(total_params), s = -std::log1p(-sparsity);
  std::vector<double> f = {1.0};
  for (int i = 1; i <= g.params; ++i) f.push_back(std::pow(n, i));
  for (int i = 1; i <= g.sparsity; ++i) f.push_back(std::pow(s, i));
  for (int i = 1; i <= g.interaction; ++i) f.push_back(std::pow(n * s, i));
  return f;
}

double IsoflopSurface::predict(double n, double s) const {
  const auto f = surface_features(n, s, degrees);
  double loss = 0;
  for (std::size_t i = 0; i < f.size(); ++i) loss += coefficients[i] * f[i];
  return loss;
}

IsoflopSurface fit_surface_with_degrees(const std::vector<FitRun>& runs, const SurfaceDegrees& g) {
  const int p = coefficient_count(g);
  Eigen::MatrixXd x(static_cast<Eigen::Index>(runs.size()), p);
  Eigen::VectorXd y(static_cast<Eigen::Index>(runs.size()));
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto f = surface_features(runs[i].total_params, runs[i].sparsity, g);
    for (int k = 0; k < p; ++k) x(static_cast<Eigen::Index>(i), k) = f[k];
    y(static_cast<Eigen::Index>(i)) = runs[i].loss;
  }
  const Eigen::VectorXd beta = x.colPivHouseholderQr().solve(y);
  IsoflopSurface s;
  s.degrees = g;
  s.coefficients.assign(beta.data(), beta.data() + beta.size());
  s.runs = runs.size();
  s.total_params = range_of(runs, &FitRun::total_params);
  s.sparsity = range_of(runs, &FitRun::sparsity);
  s.train_mse = mse_on(s, runs);
  return s;
}

IsoflopSurface fit_isoflop_surface(const std::vector<FitRun>& runs, int max_degree, int folds) {
  if (runs.size() < 2) fail("an isoFLOP surface needs at least 2 runs at a budget, got ", runs.size());
  const int k = std::min<int>(folds, static_cast<int>(runs.size()));
  SurfaceDegrees best_degrees;
  double best_cv = std::numeric_limits<double>::infinity();
  int best_count = 0;
  for (int a1 = 0; a1 <= max_degree; ++a1)
    for (int a2 = 0; a2 <= max_degree; ++a2)
      for (int a3 = 0; a3 <= max_degree; ++a3) {
        const SurfaceDegrees g{a1, a2, a3};
        const int p = coefficient_count(g);
        double sum = 0;
        bool usable = true;
        for (int fold = 0; fold < k && usable; ++fold) {
          std::vector<FitRun> train, test;
          for (std::size_t i = 0; i < runs.size(); ++i)
            (static_cast<int>(i % static_cast<std::size_t>(k)) == fold ? test : train).push_back(runs[i]);
          if (static_cast<int>(train.size()) < p) usable = false;
          else sum += mse_on(fit_surface_with_degrees(train, g), test) * static_cast<double>(test.size());
        }
        if (!usable) continue;
        const double cv = sum / static_cast<double>(runs.size());
        if (cv < best_cv * (1 - 1e-12) || (cv <= best_cv && p < best_count)) {
          best_cv = cv;
          best_degrees = g;
          best_count = p;
        }
      }
  IsoflopSurface s = fit_surface_with_degrees(runs, best_degrees);
  s.folds = k;
  s.cv_mse = best_cv;
  return s;
}

std::vector<std::pair<double, std::vector<FitRun>>> group_by_budget(const std::vector<FitRun>& runs) {
  const BudgetSource source = budget_source(runs);
  if (source == BudgetSource::kNone)
    fail("grouping runs by budget needs a budget (C) column, or active_params to compute 6·N_a·D");
  std::map<double, std::vector<FitRun>> groups;
  for (const auto& r : runs) {
    // 6·N_a·D of one iso-FLOP budget differs slightly between runs: group on 2 digits.
    const double c = run_budget_flops(r, source);
    groups[source == BudgetSource::kColumn ? c : round_2_digits(c)].push_back(r);
  }
  return {groups.begin(), groups.end()};
}

std::vector<SliceOptimum> optimal_sparsity(const IsoflopSurface& surface, const std::vector<double>& params) {
  std::vector<SliceOptimum> out;
  const double lo = -std::log1p(-surface.sparsity.lo), hi = -std::log1p(-surface.sparsity.hi);
  constexpr int kSteps = 2000;  // dense search in Ŝ: the surface is a low-degree polynomial
  for (double n : params) {
    SliceOptimum o{n, 0, std::numeric_limits<double>::infinity(), std::nullopt, false};
    int best_step = 0;
    for (int i = 0; i <= kSteps; ++i) {
      const double s = -std::expm1(-(lo + (hi - lo) * i / kSteps));
      const double loss = surface.predict(n, s);
      if (loss < o.loss) o.loss = loss, o.optimum = s, best_step = i;
    }
    o.at_edge = hi > lo && (best_step == 0 || best_step == kSteps);
    out.push_back(o);
  }
  return out;
}

std::vector<SliceOptimum> optimal_params(const IsoflopSurface& surface, const std::vector<FitRun>& runs,
                                         const std::vector<double>& sparsities) {
  std::vector<SliceOptimum> out;
  const double lo = std::log(surface.total_params.lo), hi = std::log(surface.total_params.hi);
  constexpr int kSteps = 2000;
  for (double s : sparsities) {
    SliceOptimum o{s, 0, std::numeric_limits<double>::infinity(), std::nullopt, false};
    int best_step = 0;
    for (int i = 0; i <= kSteps; ++i) {
      const double n = std::exp(lo + (hi - lo) * i / kSteps);
      const double loss = surface.predict(n, s);
      if (loss < o.loss) o.loss = loss, o.optimum = n, best_step = i;
    }
    o.at_edge = hi > lo && (best_step == 0 || best_step == kSteps);
    // N_a at N*: interpolate log N_a against log N among the runs at this sparsity.
    std::vector<std::pair<double, double>> points;
    for (const auto& r : runs)
      if (r.sparsity == s && r.active_params > 0)
        points.emplace_back(std::log(r.total_params), std::log(r.active_params));
    std::sort(points.begin(), points.end());
    if (points.size() == 1) o.active_params = std::exp(points[0].second + std::log(o.optimum) - points[0].first);
    if (points.size() >= 2) {
      const double x = std::log(o.optimum);
      std::size_t j = 1;
      while (j + 1 < points.size() && points[j].first < x) ++j;
      const auto& [x0, y0] = points[j - 1];
      const auto& [x1, y1] = points[j];
      const double t = x1 > x0 ? (x - x0) / (x1 - x0) : 0;
      o.active_params = std::exp(y0 + t * (y1 - y0));
    }
    out.push_back(o);
  }
  return out;
}

}  // namespace moeplan::law
