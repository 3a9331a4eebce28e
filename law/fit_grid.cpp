#include "law/fit_grid.h"

#include <algorithm>

namespace moeplan::law {
namespace {

std::vector<double> steps(double from, double to, double step) {
  std::vector<double> values;
  for (int i = 0; from + i * step <= to + 1e-9; ++i) values.push_back(from + i * step);
  return values;
}

}  // namespace

std::size_t StartGrid::size() const {
  std::size_t n = 1;
  for (const auto& axis : axes) n *= axis.size();
  return n;
}

Theta StartGrid::start(std::size_t index) const {
  Theta theta{};
  for (std::size_t k = axes.size(); k-- > 0;) {
    theta[k] = axes[k][index % axes[k].size()];
    index /= axes[k].size();
  }
  return theta;
}

StartGrid paper_grid(LawForm form) {
  if (form == LawForm::kSparse) {
    const auto scale = steps(0, 20, 10);
    const auto exponent = steps(0, 1.25, 0.25);
    const auto sparsity_exponent = steps(-1, 1, 0.5);
    return {{scale, exponent, scale, exponent, scale, sparsity_exponent, scale, sparsity_exponent,
             exponent, {1.5}}};
  }
  const auto scale = steps(0, 25, 5);
  const auto exponent = steps(0, 2, 0.5);
  return {{scale, exponent, scale, exponent, steps(-1, 1, 0.5)}};
}

StartGrid coarse_grid(LawForm form) {
  StartGrid grid = paper_grid(form);
  for (auto& axis : grid.axes)
    if (axis.size() > 3) axis = {axis.front(), axis[axis.size() / 2], axis.back()};
  return grid;
}

std::vector<Theta> strided_starts(const StartGrid& grid, std::size_t count) {
  const std::size_t total = grid.size();
  count = std::min(count, total);
  std::vector<Theta> starts;
  starts.reserve(count);
  for (std::size_t i = 0; i < count; ++i) starts.push_back(grid.start(i * total / count));
  return starts;
}

Bounds fit_bounds(LawForm form) {
  Bounds b;
  auto set = [&](int k, double lo, double hi) {
    b.lower[k] = lo;
    b.upper[k] = hi;
  };
  set(0, -20, 40);  // log a
  set(1, 0, 3);     // α
  set(2, -20, 40);  // log b
  set(3, 0, 3);     // β
  if (form == LawForm::kSparse) {
    set(4, -20, 40);  // log c
    set(5, -3, 3);    // λ
    set(6, -20, 40);  // log d
    set(7, -3, 3);    // δ
    set(8, 0, 3);     // γ
    set(9, -10, 3);   // log e
  } else {
    set(4, -10, 3);  // log e
  }
  return b;
}

}  // namespace moeplan::law
