#include "planner/pareto.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

namespace moeplan::planner {

std::vector<std::size_t> pareto_front(const std::vector<Candidate>& c) {
  std::vector<std::size_t> order(c.size());
  std::iota(order.begin(), order.end(), 0);
  // Sweep by loss; every earlier point has a lower (or equal) loss, so a point is dominated
  // exactly when an earlier one has both fewer (or equal) active and total parameters.
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (c[a].loss != c[b].loss) return c[a].loss < c[b].loss;
    if (c[a].active_params != c[b].active_params) return c[a].active_params < c[b].active_params;
    return c[a].total_params < c[b].total_params;
  });
  // Staircase of the front so far: active -> total, total strictly falling as active grows.
  std::map<std::int64_t, std::int64_t> stairs;
  std::vector<std::size_t> front;
  for (const std::size_t i : order) {
    const std::int64_t active = c[i].active_params, total = c[i].total_params;
    auto it = stairs.upper_bound(active);
    if (it != stairs.begin() && std::prev(it)->second <= total) continue;  // dominated
    front.push_back(i);
    // Drop the stairs this point dominates in (active, total).
    auto drop = stairs.lower_bound(active);
    while (drop != stairs.end() && drop->second >= total) drop = stairs.erase(drop);
    stairs[active] = total;
  }
  std::sort(front.begin(), front.end(), [&](std::size_t a, std::size_t b) {
    if (c[a].active_params != c[b].active_params) return c[a].active_params < c[b].active_params;
    return c[a].loss < c[b].loss;
  });
  return front;
}

std::vector<std::size_t> thin_front(const std::vector<Candidate>& c,
                                    const std::vector<std::size_t>& full_front, std::size_t chosen,
                                    std::size_t rows) {
  std::vector<std::size_t> picked = {chosen};
  std::vector<std::size_t> front;
  const double max_loss = c[chosen].loss * (1 + kAlternativeLossWindow);
  for (const std::size_t i : full_front)
    if (c[i].loss <= max_loss) front.push_back(i);
  if (front.empty() || rows <= 1) return picked;
  const double lo = std::log(static_cast<double>(c[front.front()].active_params));
  const double hi = std::log(static_cast<double>(c[front.back()].active_params));
  const std::size_t targets = rows - 1;
  for (std::size_t t = 0; t < targets; ++t) {
    const double target =
        targets == 1 ? lo : lo + (hi - lo) * static_cast<double>(t) / (targets - 1);
    std::size_t best = front.front();
    double best_gap = INFINITY;
    for (const std::size_t i : front) {
      if (std::find(picked.begin(), picked.end(), i) != picked.end()) continue;
      const double gap = std::fabs(std::log(static_cast<double>(c[i].active_params)) - target);
      if (gap < best_gap) best_gap = gap, best = i;
    }
    if (std::isfinite(best_gap)) picked.push_back(best);
  }
  std::sort(picked.begin(), picked.end(), [&](std::size_t a, std::size_t b) {
    if (c[a].active_params != c[b].active_params) return c[a].active_params < c[b].active_params;
    return c[a].loss < c[b].loss;
  });
  return picked;
}

}  // namespace moeplan::planner
