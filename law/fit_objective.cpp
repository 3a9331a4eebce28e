#include "law/fit_objective.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace moeplan::law {
namespace {

// Four doubles per vector: GCC splits them into SSE2 halves on baseline x86-64 and uses AVX2
// in the x86-64-v3 clone of the kernel (chosen at run time).
typedef double v4d __attribute__((vector_size(32)));
typedef long long v4l __attribute__((vector_size(32)));
constexpr std::size_t kWidth = 4;

inline v4d splat(double x) { return v4d{x, x, x, x}; }
inline v4l splat_int(long long x) { return v4l{x, x, x, x}; }

// exp(x) to a few ulp for x in [-700, 700] (clamped): x = n·ln2 + r, |r| ≤ ln2/2, e^r by its
// Taylor series to degree 11 (truncation (ln2/2)^12/12! < 1e-14, relative), then 2^n added to
// the exponent bits.
[[gnu::always_inline]] inline v4d vexp(v4d x) {
  x = x < splat(-700.0) ? splat(-700.0) : x;
  x = x > splat(700.0) ? splat(700.0) : x;
  const v4d magic = splat(6755399441055744.0);  // 1.5·2^52: adding it rounds to an integer
  const v4d t = x * splat(1.4426950408889634) + magic;
  const v4d n = t - magic;
  const v4d r = (x - n * splat(6.93147180369123816490e-01)) - n * splat(1.90821492927058770002e-10);
  v4d p = splat(1.0 / 39916800.0);  // 1/11!
  p = p * r + splat(1.0 / 3628800.0);
  p = p * r + splat(1.0 / 362880.0);
  p = p * r + splat(1.0 / 40320.0);
  p = p * r + splat(1.0 / 5040.0);
  p = p * r + splat(1.0 / 720.0);
  p = p * r + splat(1.0 / 120.0);
  p = p * r + splat(1.0 / 24.0);
  p = p * r + splat(1.0 / 6.0);
  p = p * r + splat(0.5);
  p = p * r + splat(1.0);
  p = p * r + splat(1.0);
  const v4l n_int = (v4l)t - (v4l)magic;
  return (v4d)((v4l)p + (n_int << 52));
}

// log(x) for finite x > 0 (normal numbers): x = 2^k·m, m ∈ [√½, √2), log m = 2·atanh(u),
// u = (m−1)/(m+1), |u| ≤ 0.172, series to u^17 (truncation 2·u^19/19 < 3e-16).
[[gnu::always_inline]] inline v4d vlog(v4d x) {
  const v4l bits = (v4l)x;
  const v4l exponent_bits = (bits >> 52) & splat_int(0x7ff);
  v4d m = (v4d)((bits & splat_int(0x000fffffffffffffLL)) | splat_int(0x3ff0000000000000LL));
  const v4d two52 = splat(4503599627370496.0);
  v4d k = ((v4d)(exponent_bits | (v4l)two52) - two52) - splat(1023.0);
  const auto big = m > splat(1.4142135623730951);
  m = big ? m * splat(0.5) : m;
  k = big ? k + splat(1.0) : k;
  const v4d u = (m - splat(1.0)) / (m + splat(1.0));
  const v4d u2 = u * u;
  v4d s = splat(1.0 / 17);
  s = s * u2 + splat(1.0 / 15);
  s = s * u2 + splat(1.0 / 13);
  s = s * u2 + splat(1.0 / 11);
  s = s * u2 + splat(1.0 / 9);
  s = s * u2 + splat(1.0 / 7);
  s = s * u2 + splat(1.0 / 5);
  s = s * u2 + splat(1.0 / 3);
  s = s * u2 + splat(1.0);
  const v4d log_m = splat(2.0) * u * s;
  return k * splat(6.93147180369123816490e-01) + (log_m + k * splat(1.90821492927058770002e-10));
}

inline v4d load(const double* p) {
  v4d v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

inline double horizontal_sum(v4d v) { return (v[0] + v[1]) + (v[2] + v[3]); }

struct Arrays {
  // Per run (padded to kWidth): log D, log L, weight, and the index of its (N, S) pair.
  const double *log_tokens, *log_loss, *weight;
  const int* pair_index;
  std::size_t run_count, padded;
  // Unique values of log N and log(1−S): sweeps repeat a few sizes and sparsities, so N^−α,
  // N^−γ, (1−S)^−λ and (1−S)^−δ are computed once per unique value, not once per run.
  const double *unique_log_params, *unique_log_density;
  std::size_t unique_params, unique_density;  // padded to kWidth
  // Unique (N, S) pairs, as indices into those tables: every term but b·D^−β depends on the
  // pair only, so their sum is computed once per pair and the run loop gathers one value.
  const int *pair_params, *pair_density;
  std::size_t pairs;
  double* scratch;  // FitObjective::scratch_size_ doubles
};

inline v4d gather(const double* table, const int* index) {
  return v4d{table[index[0]], table[index[1]], table[index[2]], table[index[3]]};
}

// Σ w·Huber(LSE(terms) − log L) and its gradient. kSparse selects Eq. 6 over Chinchilla.
// Three passes: (1) per pair, the sum of the N- and S-dependent terms and e; (2) per run, the
// residual with b·D^−β, the objective, and ψ = w·Huber'(r)/Σt (the gradient of a term's log
// coefficient is ψ·t); (3) the ψ of each pair summed, then the pair terms' gradients. The run
// loop keeps four accumulators, so it fits the 16 vector registers.
template <bool kSparse>
[[gnu::always_inline]] inline double kernel(const Arrays& in, const double* th, double* grad) {
  constexpr int kDim = kSparse ? 10 : 5;
  double* term_a = in.scratch;                      // a·N^−α per unique N
  double* term_dn = term_a + in.unique_params;      // N^−γ
  double* term_c = term_dn + in.unique_params;      // c·(1−S)^−λ per unique S
  double* term_ds = term_c + in.unique_density;     // d·(1−S)^−δ
  double* pair_sum = term_ds + in.unique_density;   // Σ of the pair's terms, e included
  double* pair_psi = pair_sum + in.pairs;           // Σψ over the pair's runs
  double* run_psi = pair_psi + in.pairs;            // ψ per run (padded)
  const double e_term = std::exp(th[kDim - 1]);
  {
    const v4d log_a = splat(th[0]), alpha = splat(th[1]), gamma = splat(kSparse ? th[8] : 0);
    for (std::size_t j = 0; j < in.unique_params; j += kWidth) {
      const v4d ln = load(in.unique_log_params + j);
      const v4d ta = vexp(log_a - alpha * ln);
      __builtin_memcpy(term_a + j, &ta, sizeof ta);
      if constexpr (kSparse) {
        const v4d tn = vexp(-gamma * ln);
        __builtin_memcpy(term_dn + j, &tn, sizeof tn);
      }
    }
  }
  if constexpr (kSparse) {
    const v4d log_c = splat(th[4]), lambda = splat(th[5]), log_d = splat(th[6]);
    const v4d delta_s = splat(th[7]);
    for (std::size_t j = 0; j < in.unique_density; j += kWidth) {
      const v4d ls = load(in.unique_log_density + j);
      const v4d tc = vexp(log_c - lambda * ls), td = vexp(log_d - delta_s * ls);
      __builtin_memcpy(term_c + j, &tc, sizeof tc);
      __builtin_memcpy(term_ds + j, &td, sizeof td);
    }
  }
  for (std::size_t p = 0; p < in.pairs; ++p) {
    const int n = in.pair_params[p];
    double sum = term_a[n] + e_term;
    if constexpr (kSparse) {
      const int s = in.pair_density[p];
      sum += term_c[s] + term_ds[s] * term_dn[n];
    }
    pair_sum[p] = sum;
  }
  const v4d delta = splat(kHuberDelta);
  const v4d log_b = splat(th[2]), beta = splat(th[3]);
  v4d acc_f = splat(0.0), acc_b = splat(0.0), acc_beta = splat(0.0), acc_psi = splat(0.0);
  for (std::size_t i = 0; i < in.padded; i += kWidth) {
    const v4d ld = load(in.log_tokens + i);
    const v4d w = load(in.weight + i);
    const v4d t2 = vexp(log_b - beta * ld);
    const v4d sum = gather(pair_sum, in.pair_index + i) + t2;
    const v4d r = vlog(sum) - load(in.log_loss + i);
    const v4d abs_r = r < splat(0.0) ? -r : r;
    const auto inside = abs_r <= delta;
    acc_f += w * (inside ? splat(0.5) * r * r : delta * (abs_r - splat(0.5) * delta));
    v4d psi = inside ? r : (r < splat(0.0) ? -delta : delta);  // Huber'(r)
    psi = w * psi / sum;
    const v4d p2 = psi * t2;
    acc_b += p2;
    acc_beta -= p2 * ld;
    acc_psi += psi;
    __builtin_memcpy(run_psi + i, &psi, sizeof psi);
  }
  if (grad) {
    for (std::size_t p = 0; p < in.pairs; ++p) pair_psi[p] = 0;
    for (std::size_t i = 0; i < in.run_count; ++i) pair_psi[in.pair_index[i]] += run_psi[i];
    double g[kDim] = {};
    for (std::size_t p = 0; p < in.pairs; ++p) {
      const int n = in.pair_params[p];
      const double ln = in.unique_log_params[n];
      const double p1 = pair_psi[p] * term_a[n];
      g[0] += p1;
      g[1] -= p1 * ln;
      if constexpr (kSparse) {
        const int s = in.pair_density[p];
        const double ls = in.unique_log_density[s];
        const double p3 = pair_psi[p] * term_c[s], p4 = pair_psi[p] * term_ds[s] * term_dn[n];
        g[4] += p3;
        g[5] -= p3 * ls;
        g[6] += p4;
        g[7] -= p4 * ls;
        g[8] -= p4 * ln;
      }
    }
    g[2] = horizontal_sum(acc_b);
    g[3] = horizontal_sum(acc_beta);
    g[kDim - 1] = horizontal_sum(acc_psi) * e_term;
    for (int k = 0; k < kDim; ++k) grad[k] = g[k];
  }
  return horizontal_sum(acc_f);
}

// Sorted unique values of `values`, padded with copies of the last to a multiple of kWidth, and
// each value's index into them.
void index_unique(const std::vector<double>& values, std::vector<double>& unique,
                  std::vector<int>& index) {
  unique = values;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  const std::size_t count = unique.size();
  index.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    index[i] = static_cast<int>(std::lower_bound(unique.begin(), unique.end(), values[i]) -
                                unique.begin());
  const double last = count ? unique.back() : 0.0;
  unique.resize(std::max<std::size_t>(kWidth, (count + kWidth - 1) / kWidth * kWidth), last);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MOEPLAN_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define MOEPLAN_CLONES
#endif

MOEPLAN_CLONES double sparse_kernel(const Arrays& in, const double* th, double* grad) {
  return kernel<true>(in, th, grad);
}
MOEPLAN_CLONES double dense_kernel(const Arrays& in, const double* th, double* grad) {
  return kernel<false>(in, th, grad);
}

}  // namespace

int parameter_count(LawForm form) { return form == LawForm::kSparse ? 10 : 5; }

const std::vector<const char*>& parameter_names(LawForm form) {
  static const std::vector<const char*> sparse = {"log_a", "alpha", "log_b", "beta",  "log_c",
                                                  "lambda", "log_d", "delta", "gamma", "log_e"};
  static const std::vector<const char*> dense = {"log_a", "alpha", "log_b", "beta", "log_e"};
  return form == LawForm::kSparse ? sparse : dense;
}

Coefficients coefficients_from_theta(const Theta& th, LawForm form) {
  Coefficients k;
  k.a = std::exp(th[0]);
  k.alpha = th[1];
  k.b = std::exp(th[2]);
  k.beta = th[3];
  if (form == LawForm::kSparse) {
    k.c = std::exp(th[4]);
    k.lambda = th[5];
    k.d = std::exp(th[6]);
    k.delta = th[7];
    k.gamma = th[8];
    k.e = std::exp(th[9]);
  } else {
    k.e = std::exp(th[4]);
  }
  return k;
}

Theta theta_from_coefficients(const Coefficients& k, LawForm form) {
  Theta th{};
  th[0] = std::log(k.a);
  th[1] = k.alpha;
  th[2] = std::log(k.b);
  th[3] = k.beta;
  if (form == LawForm::kSparse) {
    th[4] = std::log(k.c);
    th[5] = k.lambda;
    th[6] = std::log(k.d);
    th[7] = k.delta;
    th[8] = k.gamma;
    th[9] = std::log(k.e);
  } else {
    th[4] = std::log(k.e);
  }
  return th;
}

double huber(double r, double delta) {
  const double a = std::fabs(r);
  return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
}

FitObjective::FitObjective(const std::vector<FitRun>& runs, LawForm form)
    : FitObjective(runs, form, std::vector<double>(runs.size(), 1.0)) {}

FitObjective::FitObjective(const std::vector<FitRun>& runs, LawForm form,
                           const std::vector<double>& weights)
    : form_(form), run_count_(runs.size()) {
  if (weights.size() != runs.size()) fail("fit: one weight per run is needed");
  padded_ = (runs.size() + kWidth - 1) / kWidth * kWidth;
  // Padding rows: harmless finite values with weight 0.
  log_params_.assign(padded_, 0.0);
  log_tokens_.assign(padded_, 0.0);
  log_density_.assign(padded_, 0.0);
  log_loss_.assign(padded_, 0.0);
  weight_.assign(padded_, 0.0);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const FitRun& run = runs[i];
    if (!(run.total_params > 0 && run.tokens > 0 && run.loss > 0 && run.sparsity >= 0 &&
          run.sparsity < 1))
      fail("fit: run ", i + 1, " needs N > 0, D > 0, loss > 0 and 0 <= S < 1");
    log_params_[i] = std::log(run.total_params);
    log_tokens_[i] = std::log(run.tokens);
    log_density_[i] = std::log1p(-run.sparsity);
    log_loss_[i] = std::log(run.loss);
    weight_[i] = weights[i];
  }
  index_unique(log_params_, unique_log_params_, params_index_);
  index_unique(log_density_, unique_log_density_, density_index_);
  // Unique (N, S) pairs; padding rows point at pair 0 (their weight is 0).
  std::vector<long long> keys(runs.size());
  const auto density_count = static_cast<long long>(unique_log_density_.size());
  for (std::size_t i = 0; i < runs.size(); ++i)
    keys[i] = params_index_[i] * density_count + density_index_[i];
  std::vector<long long> unique_keys = keys;
  std::sort(unique_keys.begin(), unique_keys.end());
  unique_keys.erase(std::unique(unique_keys.begin(), unique_keys.end()), unique_keys.end());
  pair_index_.assign(padded_, 0);
  for (std::size_t i = 0; i < runs.size(); ++i)
    pair_index_[i] = static_cast<int>(
        std::lower_bound(unique_keys.begin(), unique_keys.end(), keys[i]) - unique_keys.begin());
  for (long long key : unique_keys) {
    pair_params_.push_back(static_cast<int>(key / density_count));
    pair_density_.push_back(static_cast<int>(key % density_count));
  }
  scratch_size_ = 2 * (unique_log_params_.size() + unique_log_density_.size()) +
                  2 * pair_params_.size() + padded_;
}

double FitObjective::evaluate(const double* theta, double* gradient) const {
  // Thread-local scratch: one FitObjective is evaluated from several threads at once.
  thread_local std::vector<double> scratch;
  if (scratch.size() < scratch_size_) scratch.resize(scratch_size_);
  const Arrays in{log_tokens_.data(),         log_loss_.data(),
                  weight_.data(),             pair_index_.data(),
                  run_count_,                 padded_,
                  unique_log_params_.data(),  unique_log_density_.data(),
                  unique_log_params_.size(),  unique_log_density_.size(),
                  pair_params_.data(),        pair_density_.data(),
                  pair_params_.size(),        scratch.data()};
  return form_ == LawForm::kSparse ? sparse_kernel(in, theta, gradient)
                                   : dense_kernel(in, theta, gradient);
}

double FitObjective::evaluate_reference(const double* th, double* gradient) const {
  const bool sparse = form_ == LawForm::kSparse;
  const int dim = dimension();
  std::vector<double> g(dim, 0.0);
  double total = 0;
  for (std::size_t i = 0; i < run_count_; ++i) {
    const double ln = log_params_[i], ld = log_tokens_[i], ls = log_density_[i];
    std::vector<double> terms = {th[0] - th[1] * ln, th[2] - th[3] * ld};
    if (sparse) {
      terms.push_back(th[4] - th[5] * ls);
      terms.push_back(th[6] - th[7] * ls - th[8] * ln);
    }
    terms.push_back(th[dim - 1]);
    const double top = *std::max_element(terms.begin(), terms.end());
    double sum = 0;
    for (double t : terms) sum += std::exp(t - top);
    const double r = top + std::log(sum) - log_loss_[i];
    total += weight_[i] * huber(r);
    const double psi = weight_[i] * std::clamp(r, -kHuberDelta, kHuberDelta);
    std::vector<double> soft;
    for (double t : terms) soft.push_back(std::exp(t - top) / sum * psi);
    g[0] += soft[0];
    g[1] -= soft[0] * ln;
    g[2] += soft[1];
    g[3] -= soft[1] * ld;
    if (sparse) {
      g[4] += soft[2];
      g[5] -= soft[2] * ls;
      g[6] += soft[3];
      g[7] -= soft[3] * ls;
      g[8] -= soft[3] * ln;
    }
    g[dim - 1] += soft.back();
  }
  if (gradient) std::copy(g.begin(), g.end(), gradient);
  return total;
}

}  // namespace moeplan::law
