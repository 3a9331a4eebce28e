#pragma once
// The fitting objective of §5 / App. E (after Hoffmann et al. 2022): parameters in log space,
// prediction log L̂ = LSE(log a − α log N, log b − β log D, log c − λ log(1−S),
// log d − δ log(1−S) − γ log N, log e), objective Σ_runs w · Huber_δ(log L̂ − log L), δ = 1e-3.
// The evaluation is the hot loop of `law fit` (437,400 L-BFGS starts), so it works on padded
// structure-of-arrays data sorted by (N, S) with a vectorised exp/log, computes the terms that
// depend on N and S only once per distinct (N, S) pair of the sweep, and splits value and
// gradient so that a rejected line-search point costs no gradient (law/fit_objective.cpp).
#include <array>
#include <cstddef>
#include <memory>
#include <vector>

#include "law/scaling_law.h"

namespace moeplan::law {

inline constexpr double kHuberDelta = 1e-3;  // App. E, as Hoffmann et al.

namespace detail {
struct FitArrays;  // the kernels' view of a FitObjective (law/fit_objective.cpp)
}

// One training run: what the CSV of a sweep holds (optional columns as 0 when absent).
struct FitRun {
  double total_params = 0;   // N
  double tokens = 0;         // D
  double sparsity = 0;       // S
  double loss = 0;           // measured validation loss (nats)
  double budget_flops = 0;   // C, 0 when not given
  double active_params = 0;  // N_a, 0 when not given
};

// Parameter vector θ. Sparse (Eq. 6): (log a, α, log b, β, log c, λ, log d, δ, γ, log e);
// dense (Chinchilla): (log a, α, log b, β, log e).
inline constexpr int kMaxFitParams = 10;
using Theta = std::array<double, kMaxFitParams>;
// Indices into θ: Eq. 6's ten in the order above; the dense form keeps the first four and has
// log e at kDenseLogE.
namespace theta {
inline constexpr int kLogA = 0, kAlpha = 1, kLogB = 2, kBeta = 3, kLogC = 4, kLambda = 5, kLogD = 6,
                     kDelta = 7, kGamma = 8, kLogE = 9;
inline constexpr int kDenseLogE = 4;
static_assert(kLogE + 1 == kMaxFitParams);
constexpr int log_e(LawForm form) {
  return form == LawForm::kSparse ? kLogE : kDenseLogE;
}
}  // namespace theta
int parameter_count(LawForm form);
const std::vector<const char*>& parameter_names(LawForm form);  // "log_a", "alpha", ...
Coefficients coefficients_from_theta(const Theta& theta, LawForm form);
Theta theta_from_coefficients(const Coefficients& coefficients, LawForm form);

// Huber loss with threshold `delta`: r²/2 inside, δ(|r| − δ/2) outside.
double huber(double residual, double delta = kHuberDelta);

// The runs of one fit, as padded arrays (length a multiple of the vector width; padding has
// weight 0). `weights` are run multiplicities: 1 for a plain fit, bootstrap counts otherwise.
class FitObjective {
 public:
  FitObjective(const std::vector<FitRun>& runs, LawForm form);
  FitObjective(const std::vector<FitRun>& runs, LawForm form, const std::vector<double>& weights);

  LawForm form() const { return form_; }
  int dimension() const { return parameter_count(form_); }
  std::size_t run_count() const { return run_count_; }

  // The scratch of one evaluation, owned by the caller (one per thread).
  struct Workspace {
    std::unique_ptr<double[]> scratch;  // uninitialised: every pass writes before it reads
    std::size_t capacity = 0;
    const FitObjective* owner = nullptr;  // whose value() last filled it, at `theta`
    Theta theta{};
  };
  // Objective value; leaves in `workspace` what gradient() at the same θ needs.
  double value(const double* theta, Workspace& workspace) const;
  // dJ/dθ (dimension() entries): finishes from value()'s workspace when this objective filled
  // it at this θ, else evaluates first (in `law fit` about one value in five is at a rejected
  // line-search point, which needs no gradient).
  void gradient(const double* theta, Workspace& workspace, double* gradient) const;
  // Both at once; when `gradient` is non-null also writes dJ/dθ.
  double evaluate(const double* theta, double* gradient) const;
  // Plain scalar evaluation with std::exp/std::log, the reference the fast path is tested on.
  double evaluate_reference(const double* theta, double* gradient) const;

 private:
  detail::FitArrays arrays(Workspace& workspace) const;  // sizes the workspace's scratch
  detail::FitArrays arrays_over(double* scratch) const;
  LawForm form_;
  std::size_t run_count_ = 0;
  std::size_t padded_ = 0;
  std::vector<double> log_params_, log_tokens_, log_density_, log_loss_, weight_;
  std::vector<double> unique_log_params_, unique_log_density_;
  std::vector<int> params_index_, density_index_;  // per run
  std::vector<int> pair_index_;                    // per run (padded): its unique (N, S) pair
  std::vector<int> pair_params_, pair_density_;    // per pair: indices into the unique tables
  std::vector<int> pair_begin_;                    // pairs + 1: first run of each pair (sorted)
  std::vector<double> pair_log_params_, pair_log_density_;  // per pair
  std::size_t scratch_size_ = 0;
  double max_abs_log_params_ = 0, max_abs_log_tokens_ = 0, max_abs_log_density_ = 0;
};

}  // namespace moeplan::law
