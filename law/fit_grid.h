#pragma once
// Starting grids and bounds for `law fit`.
//   Table 2 (Abnar et al. 2025) for Eq. 6: log a, log b, log c, log d ∈ {0, 10, 20};
//   α, β, γ ∈ {0, 0.25, …, 1.25}; λ, δ ∈ {−1, −0.5, 0, 0.5, 1}; log e = 1.5 → 437,400 starts.
//   Hoffmann et al. 2022 (App. D.2) for the dense form: log a, log b ∈ {0, 5, …, 25};
//   α, β ∈ {0, 0.5, …, 2}; log e ∈ {−1, −0.5, …, 1} → 4,500 starts.
#include <cstddef>
#include <string>
#include <vector>

#include "law/fit_objective.h"

namespace moeplan::law {

// A Cartesian product of per-parameter values, in θ order. Start i is decoded mixed-radix with
// the last parameter varying fastest.
struct StartGrid {
  std::vector<std::vector<double>> axes;
  std::size_t size() const;
  Theta start(std::size_t index) const;
};

StartGrid paper_grid(LawForm form);  // Table 2 (sparse) or Hoffmann's grid (dense)
// A coarse subset of the paper grid for quick fits: every axis longer than 3 keeps its two ends
// and middle (sparse: 3^9 = 19,683 starts; dense: 3^4·5 = 405).
StartGrid coarse_grid(LawForm form);
// `count` starts spread evenly (every k-th) over the paper grid, for --starts NUMBER.
std::vector<Theta> strided_starts(const StartGrid& grid, std::size_t count);

// Box constraints on θ: wide enough to contain the grid, Table 3 and Hoffmann's fits, and
// narrow enough that a runaway fit (SPEC §5: α ≈ 240) stops at a bound and is reported.
//   log a, log b, log c, log d ∈ [−20, 40]; α, β, γ ∈ [0, 3]; λ, δ ∈ [−3, 3]; log e ∈ [−10, 3].
struct Bounds {
  Theta lower{}, upper{};
};
Bounds fit_bounds(LawForm form);

}  // namespace moeplan::law
