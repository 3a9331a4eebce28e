#pragma once
// The sweep's grid (the paper's method at small scale, §5 and App. E): for each budget C and each E (sparsity S = (E − K)/E), `sizes`
// models whose total parameters span about ×8 around the prior law's optimum N*(C, S), each a
// shape of the ladder (sweep_shapes.h). N*(C, S) minimises Eq. 6 over the ladder at fixed S with
// D = C / 6·N_a (law/flops.h); the targets are N*·8^(i/(sizes−1) − 1/2), i = 0..sizes−1, each
// mapped to the nearest shape in log N; targets mapping to the same shape count once. Only
// shapes with at least min_steps steps at batch 1 (D >= min_steps · context) take part.
// `--seeds N` adds, for each sparsity, the median budget's central size N more times (replicates
// 1..N, other seeds): the run-to-run noise.
#include <cstdint>
#include <string>
#include <vector>

#include "law/scaling_law.h"
#include "verify/sweep/sweep_setup.h"
#include "verify/sweep/sweep_shapes.h"

namespace moeplan::verify {

inline constexpr double kSizeSpan = 8.0;                      // largest / smallest target of a cell
inline constexpr const char* kDefaultPriorLaw = "abnar2025";  // --law

enum class RunKind { kGrid, kBracket, kRepeat };
const char* run_kind_name(RunKind kind);  // "grid", "bracket", "repeat"

struct SweepRun {
  double budget_flops = 0;
  law::MoeArchitecture arch;  // vocabulary and context of the setup
  int replicate = 0;          // 0 except for repeats
  RunKind kind = RunKind::kGrid;
  std::string key;  // run_key(setup, budget, arch, replicate)
};

// The default sparsities S = 1 − 2^−k, k = 0..5 (E = K·2^k: 1, 2, 4, 8, 16, 32 experts at K = 1).
std::vector<double> default_sparsities();
// E = K / (1 − S), which must be (within rounding) a whole number; throws naming S otherwise.
std::int64_t experts_for_sparsity(double sparsity, std::int64_t top_k);

// The prior law of the setup (its "prior_law" JSON).
law::ScalingLaw prior_law(const SweepSetup& setup);

// The shape family of the setup at E experts.
ShapeFamily shape_family(const SweepSetup& setup, std::int64_t experts);

// The ladder's shapes that keep the step floor at `budget_flops` (D >= min_steps · context).
std::vector<LadderShape> feasible_shapes(const SweepSetup& setup, std::int64_t experts,
                                         double budget_flops);

// N*(C, S) over the feasible shapes (Eq. 6 with D = C/6·N_a); throws when none is feasible. A
// copy: a reference into `shapes` outlived a temporary list (found by AddressSanitizer).
LadderShape prior_optimum(const law::ScalingLaw& law, const std::vector<LadderShape>& shapes,
                          double budget_flops);

SweepRun make_run(const SweepSetup& setup, double budget_flops, const law::MoeArchitecture& arch,
                  int replicate, RunKind kind);

// The whole grid, repeats included. Throws Error (one line) when the budgets are not strictly
// increasing or the smallest budget is too small for the smallest model at the step floor.
std::vector<SweepRun> design_grid(const SweepSetup& setup);

}  // namespace moeplan::verify
