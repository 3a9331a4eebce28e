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
typedef unsigned long long v4u __attribute__((vector_size(32)));
constexpr std::size_t kWidth = 4;

inline v4d splat(double x) {
  return v4d{x, x, x, x};
}
inline v4l splat_int(long long x) {
  return v4l{x, x, x, x};
}

// exp(x) to a few ulp for x in [-700, 700]: x = n·ln2 + r, |r| ≤ ln2/2, e^r by its Taylor
// series to degree 11 (truncation (ln2/2)^12/12! < 1e-14, relative), then 2^n added to the
// exponent bits. The polynomial is evaluated in Estrin's form: four dependent steps instead of
// Horner's eleven, because the run loop is bound by the latency of these chains. kClamp clamps
// x to that range first; without it, x must be known to lie in it (FitObjective::value).
template <bool kClamp>
[[gnu::always_inline]] inline v4d vexp(v4d x) {
  if constexpr (kClamp) {
    x = x < splat(-700.0) ? splat(-700.0) : x;
    x = x > splat(700.0) ? splat(700.0) : x;
  }
  const v4d magic = splat(6755399441055744.0);  // 1.5·2^52: adding it rounds to an integer
  const v4d t = x * splat(1.4426950408889634) + magic;
  const v4d n = t - magic;
  const v4d r = (x - n * splat(6.93147180369123816490e-01)) - n * splat(1.90821492927058770002e-10);
  const v4d r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const v4d p01 = splat(1.0) + r, p23 = splat(1.0 / 2) + r * splat(1.0 / 6);
  const v4d p45 = splat(1.0 / 24) + r * splat(1.0 / 120);
  const v4d p67 = splat(1.0 / 720) + r * splat(1.0 / 5040);
  const v4d p89 = splat(1.0 / 40320) + r * splat(1.0 / 362880);
  const v4d p1011 = splat(1.0 / 3628800) + r * splat(1.0 / 39916800);
  const v4d p = ((p01 + r2 * p23) + r4 * (p45 + r2 * p67)) + r8 * (p89 + r2 * p1011);
  const v4l n_int = (v4l)t - (v4l)magic;
  return (v4d)((v4l)p + (n_int << 52));
}

// log(x) for finite x > 0 (normal numbers): x = 2^k·m, m ∈ [√½, √2), log m = 2·atanh(u),
// u = (m−1)/(m+1), |u| ≤ 0.172, series to u^17 (truncation 2·u^19/19 < 3e-16). k and m come
// from the bits shifted by those of √½, so that no compare-and-select is needed.
[[gnu::always_inline]] inline v4d vlog(v4d x) {
  constexpr long long kSqrtHalfBits = 0x3fe6a09e667f3bcdLL;  // √½
  const v4u shifted = (v4u)x + (v4u)splat_int(0x3ff0000000000000LL - kSqrtHalfBits);
  const v4l exponent_bits = (v4l)(shifted >> 52);  // x > 0: the sign bit is 0
  const v4d m =
      (v4d)((v4l)(shifted & (v4u)splat_int(0x000fffffffffffffLL)) + splat_int(kSqrtHalfBits));
  const v4d two52 = splat(4503599627370496.0);
  const v4d k = ((v4d)(exponent_bits | (v4l)two52) - two52) - splat(1023.0);
  const v4d u = (m - splat(1.0)) / (m + splat(1.0));
  const v4d u2 = u * u;
  const v4d u4 = u2 * u2, u8 = u4 * u4;  // Estrin's form, as in vexp
  const v4d s01 = splat(1.0) + u2 * splat(1.0 / 3), s23 = splat(1.0 / 5) + u2 * splat(1.0 / 7);
  const v4d s45 = splat(1.0 / 9) + u2 * splat(1.0 / 11),
            s67 = splat(1.0 / 13) + u2 * splat(1.0 / 15);
  const v4d s = ((s01 + u4 * s23) + u8 * (s45 + u4 * s67)) + (u8 * u8) * splat(1.0 / 17);
  const v4d log_m = splat(2.0) * u * s;
  return k * splat(6.93147180369123816490e-01) + (log_m + k * splat(1.90821492927058770002e-10));
}

inline v4d load(const double* p) {
  v4d v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

inline double horizontal_sum(v4d v) {
  return (v[0] + v[1]) + (v[2] + v[3]);
}

}  // namespace

namespace detail {
struct FitArrays {
  // Per run (padded to kWidth): log D, log L, weight, and the index of its (N, S) pair.
  const double *log_tokens, *log_loss, *weight;
  const int* pair_index;
  std::size_t run_count, padded;
  // Unique values of log N and log(1−S): sweeps repeat a few sizes and sparsities, so N^−α,
  // N^−γ, (1−S)^−λ and (1−S)^−δ are computed once per unique value, not once per run.
  const double *unique_log_params, *unique_log_density;
  std::size_t unique_params, unique_density;  // padded to kWidth
  // Unique (N, S) pairs, as indices into those tables: every term but b·D^−β depends on the
  // pair only, so their sum is computed once per pair and the run loop gathers one value. Runs
  // are stored sorted by pair: pair p owns runs [pair_begin[p], pair_begin[p + 1]).
  const int *pair_params, *pair_density, *pair_begin;
  const double *pair_log_params, *pair_log_density;  // log N and log(1−S) per pair
  std::size_t pairs;
  double* scratch;  // FitObjective::scratch_size_ doubles
};
}  // namespace detail

namespace {

using Arrays = detail::FitArrays;

inline v4d gather(const double* table, const int* index) {
  return v4d{table[index[0]], table[index[1]], table[index[2]], table[index[3]]};
}

// The scratch of one evaluation: what the value pass leaves for the gradient pass.
struct Scratch {
  double *term_a, *term_dn;  // a·N^−α and N^−γ per unique N
  double *term_c, *term_ds;  // c·(1−S)^−λ and d·(1−S)^−δ per unique S
  double* pair_sum;          // Σ of the pair's terms, e included, per (N, S) pair
  double *pair_a, *pair_c;   // the pair's a·N^−α and c·(1−S)^−λ
  double* pair_d;            // the pair's d·(1−S)^−δ·N^−γ
  double* pair_psi;          // Σψ over the pair's runs
  double *run_b, *run_sum;   // b·D^−β and Σ of the terms per run
  double *run_r, *run_psi;   // log residual and ψ per run
};

// The arrays of the scratch, one after the other from in.scratch; `size` is their total in
// doubles. With in.scratch null only `size` is meaningful (how much to allocate).
struct ScratchLayout {
  Scratch scratch;
  std::size_t size;
};

inline ScratchLayout scratch_layout(const Arrays& in) {
  std::size_t used = 0;
  const auto take = [&](std::size_t n) {
    double* p = in.scratch ? in.scratch + used : nullptr;
    used += n;
    return p;
  };
  Scratch s{};
  s.term_a = take(in.unique_params);
  s.term_dn = take(in.unique_params);
  s.term_c = take(in.unique_density);
  s.term_ds = take(in.unique_density);
  s.pair_sum = take(in.pairs);
  s.pair_a = take(in.pairs);
  s.pair_c = take(in.pairs);
  s.pair_d = take(in.pairs);
  s.pair_psi = take(in.pairs);
  s.run_b = take(in.padded);
  s.run_sum = take(in.padded);
  s.run_r = take(in.padded);
  s.run_psi = take(in.padded);
  return {s, used};
}

inline Scratch layout(const Arrays& in) {
  return scratch_layout(in).scratch;
}

// Σ w·Huber(LSE(terms) − log L). kSparse selects Eq. 6 over Chinchilla. Passes: (1) per pair,
// the sum of the N- and S-dependent terms and e; (2) per run, b·D^−β and the sum of all terms;
// (3) per run, the log residual and its Huber loss. Passes 2 and 3 could be one loop; split,
// each has a short dependency chain and the CPU overlaps many iterations (2× faster).
template <bool kSparse, bool kClamp>
[[gnu::always_inline]] inline double value_kernel(const Arrays& in, const double* th) {
  constexpr int kLogE = kSparse ? theta::kLogE : theta::kDenseLogE;
  const Scratch sc = layout(in);
  const double e_term = std::exp(th[kLogE]);
  {
    const v4d log_a = splat(th[theta::kLogA]), alpha = splat(th[theta::kAlpha]),
              gamma = splat(kSparse ? th[theta::kGamma] : 0);
    for (std::size_t j = 0; j < in.unique_params; j += kWidth) {
      const v4d ln = load(in.unique_log_params + j);
      const v4d ta = vexp<kClamp>(log_a - alpha * ln);
      __builtin_memcpy(sc.term_a + j, &ta, sizeof ta);
      if constexpr (kSparse) {
        const v4d tn = vexp<kClamp>(-gamma * ln);
        __builtin_memcpy(sc.term_dn + j, &tn, sizeof tn);
      }
    }
  }
  if constexpr (kSparse) {
    const v4d log_c = splat(th[theta::kLogC]), lambda = splat(th[theta::kLambda]),
              log_d = splat(th[theta::kLogD]);
    const v4d delta_s = splat(th[theta::kDelta]);
    for (std::size_t j = 0; j < in.unique_density; j += kWidth) {
      const v4d ls = load(in.unique_log_density + j);
      const v4d tc = vexp<kClamp>(log_c - lambda * ls), td = vexp<kClamp>(log_d - delta_s * ls);
      __builtin_memcpy(sc.term_c + j, &tc, sizeof tc);
      __builtin_memcpy(sc.term_ds + j, &td, sizeof td);
    }
  }
  for (std::size_t p = 0; p < in.pairs; p += kWidth) {  // pairs padded to kWidth
    const v4d ta = gather(sc.term_a, in.pair_params + p);
    v4d sum = ta + splat(e_term);
    __builtin_memcpy(sc.pair_a + p, &ta, sizeof ta);
    if constexpr (kSparse) {
      const v4d tc = gather(sc.term_c, in.pair_density + p);
      const v4d td =
          gather(sc.term_ds, in.pair_density + p) * gather(sc.term_dn, in.pair_params + p);
      sum += tc + td;
      __builtin_memcpy(sc.pair_c + p, &tc, sizeof tc);
      __builtin_memcpy(sc.pair_d + p, &td, sizeof td);
    }
    __builtin_memcpy(sc.pair_sum + p, &sum, sizeof sum);
  }
  const v4d log_b = splat(th[theta::kLogB]), beta = splat(th[theta::kBeta]);
  for (std::size_t i = 0; i < in.padded; i += kWidth) {
    const v4d t2 = vexp<kClamp>(log_b - beta * load(in.log_tokens + i));
    const v4d sum = gather(sc.pair_sum, in.pair_index + i) + t2;
    __builtin_memcpy(sc.run_b + i, &t2, sizeof t2);
    __builtin_memcpy(sc.run_sum + i, &sum, sizeof sum);
  }
  for (std::size_t i = 0; i < in.padded; i += kWidth) {
    const v4d r = vlog(load(sc.run_sum + i)) - load(in.log_loss + i);
    __builtin_memcpy(sc.run_r + i, &r, sizeof r);
  }
  const v4d delta = splat(kHuberDelta);
  v4d acc_f = splat(0.0);
  for (std::size_t i = 0; i < in.padded; i += kWidth) {
    const v4d r = load(sc.run_r + i);
    const v4d abs_r = (v4d)((v4l)r & splat_int(0x7fffffffffffffffLL));
    acc_f += load(in.weight + i) *
             (abs_r <= delta ? splat(0.5) * r * r : delta * (abs_r - splat(0.5) * delta));
  }
  return horizontal_sum(acc_f);
}

// dJ/dθ from the scratch value_kernel left at the same θ: (4) per run, ψ = w·Huber'(r)/Σt (the
// gradient of a term's log coefficient is ψ·t); (5) the ψ of each pair summed, then the pair
// terms' gradients.
template <bool kSparse>
[[gnu::always_inline]] inline void gradient_kernel(const Arrays& in, const double* th,
                                                   double* grad) {
  constexpr int kLogE = kSparse ? theta::kLogE : theta::kDenseLogE;
  constexpr int kDim = kLogE + 1;
  const Scratch sc = layout(in);
  const v4d delta = splat(kHuberDelta);
  v4d acc_b = splat(0.0), acc_beta = splat(0.0), acc_psi = splat(0.0);
  for (std::size_t i = 0; i < in.padded; i += kWidth) {
    const v4d r = load(sc.run_r + i);
    const v4d huber_slope = r < -delta ? -delta : (r > delta ? delta : r);
    const v4d psi = load(in.weight + i) * huber_slope / load(sc.run_sum + i);
    const v4d p2 = psi * load(sc.run_b + i);
    acc_b += p2;
    acc_beta -= p2 * load(in.log_tokens + i);
    acc_psi += psi;
    __builtin_memcpy(sc.run_psi + i, &psi, sizeof psi);
  }
  for (std::size_t p = 0; p < in.pairs; ++p) {
    double sum = 0;
    for (int i = in.pair_begin[p]; i < in.pair_begin[p + 1]; ++i) sum += sc.run_psi[i];
    sc.pair_psi[p] = sum;
  }
  v4d g_a = splat(0.0), g_alpha = splat(0.0), g_c = splat(0.0), g_lambda = splat(0.0);
  v4d g_d = splat(0.0), g_delta = splat(0.0), g_gamma = splat(0.0);
  for (std::size_t p = 0; p < in.pairs; p += kWidth) {  // padding pairs have ψ = 0
    const v4d psi = load(sc.pair_psi + p);
    const v4d ln = load(in.pair_log_params + p);
    const v4d p1 = psi * load(sc.pair_a + p);
    g_a += p1;
    g_alpha -= p1 * ln;
    if constexpr (kSparse) {
      const v4d ls = load(in.pair_log_density + p);
      const v4d p3 = psi * load(sc.pair_c + p);
      const v4d p4 = psi * load(sc.pair_d + p);
      g_c += p3;
      g_lambda -= p3 * ls;
      g_d += p4;
      g_delta -= p4 * ls;
      g_gamma -= p4 * ln;
    }
  }
  double g[kDim] = {};
  g[theta::kLogA] = horizontal_sum(g_a);
  g[theta::kAlpha] = horizontal_sum(g_alpha);
  g[theta::kLogB] = horizontal_sum(acc_b);
  g[theta::kBeta] = horizontal_sum(acc_beta);
  if constexpr (kSparse) {
    g[theta::kLogC] = horizontal_sum(g_c);
    g[theta::kLambda] = horizontal_sum(g_lambda);
    g[theta::kLogD] = horizontal_sum(g_d);
    g[theta::kDelta] = horizontal_sum(g_delta);
    g[theta::kGamma] = horizontal_sum(g_gamma);
  }
  g[kLogE] = horizontal_sum(acc_psi) * std::exp(th[kLogE]);
  for (int k = 0; k < kDim; ++k) grad[k] = g[k];
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

MOEPLAN_CLONES double sparse_value(const Arrays& in, const double* th) {
  return value_kernel<true, false>(in, th);
}
MOEPLAN_CLONES double dense_value(const Arrays& in, const double* th) {
  return value_kernel<false, false>(in, th);
}
MOEPLAN_CLONES double sparse_value_clamped(const Arrays& in, const double* th) {
  return value_kernel<true, true>(in, th);
}
MOEPLAN_CLONES double dense_value_clamped(const Arrays& in, const double* th) {
  return value_kernel<false, true>(in, th);
}
MOEPLAN_CLONES void sparse_gradient(const Arrays& in, const double* th, double* grad) {
  gradient_kernel<true>(in, th, grad);
}
MOEPLAN_CLONES void dense_gradient(const Arrays& in, const double* th, double* grad) {
  gradient_kernel<false>(in, th, grad);
}

}  // namespace

int parameter_count(LawForm form) {
  return form == LawForm::kSparse ? 10 : 5;
}

const std::vector<const char*>& parameter_names(LawForm form) {
  static const std::vector<const char*> sparse = {"log_a",  "alpha", "log_b", "beta",  "log_c",
                                                  "lambda", "log_d", "delta", "gamma", "log_e"};
  static const std::vector<const char*> dense = {"log_a", "alpha", "log_b", "beta", "log_e"};
  return form == LawForm::kSparse ? sparse : dense;
}

Coefficients coefficients_from_theta(const Theta& th, LawForm form) {
  Coefficients k;
  k.a = std::exp(th[theta::kLogA]);
  k.alpha = th[theta::kAlpha];
  k.b = std::exp(th[theta::kLogB]);
  k.beta = th[theta::kBeta];
  if (form == LawForm::kSparse) {
    k.c = std::exp(th[theta::kLogC]);
    k.lambda = th[theta::kLambda];
    k.d = std::exp(th[theta::kLogD]);
    k.delta = th[theta::kDelta];
    k.gamma = th[theta::kGamma];
    k.e = std::exp(th[theta::kLogE]);
  } else {
    k.e = std::exp(th[theta::kDenseLogE]);
  }
  return k;
}

Theta theta_from_coefficients(const Coefficients& k, LawForm form) {
  Theta th{};
  th[theta::kLogA] = std::log(k.a);
  th[theta::kAlpha] = k.alpha;
  th[theta::kLogB] = std::log(k.b);
  th[theta::kBeta] = k.beta;
  if (form == LawForm::kSparse) {
    th[theta::kLogC] = std::log(k.c);
    th[theta::kLambda] = k.lambda;
    th[theta::kLogD] = std::log(k.d);
    th[theta::kDelta] = k.delta;
    th[theta::kGamma] = k.gamma;
    th[theta::kLogE] = std::log(k.e);
  } else {
    th[theta::kDenseLogE] = std::log(k.e);
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
  }
  // Stored sorted by (N, S), so that the runs of each (N, S) pair are contiguous (the gradient
  // sums ψ over them without a scatter). The objective is a sum, so order does not change it.
  std::vector<std::size_t> order(runs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    const FitRun &a = runs[x], &b = runs[y];
    return a.total_params != b.total_params ? a.total_params < b.total_params
                                            : a.sparsity > b.sparsity;  // log(1−S) ascending
  });
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const FitRun& run = runs[order[i]];
    log_params_[i] = std::log(run.total_params);
    log_tokens_[i] = std::log(run.tokens);
    log_density_[i] = std::log1p(-run.sparsity);
    log_loss_[i] = std::log(run.loss);
    weight_[i] = weights[order[i]];
  }
  for (std::size_t i = 0; i < runs.size(); ++i) {
    max_abs_log_params_ = std::max(max_abs_log_params_, std::fabs(log_params_[i]));
    max_abs_log_tokens_ = std::max(max_abs_log_tokens_, std::fabs(log_tokens_[i]));
    max_abs_log_density_ = std::max(max_abs_log_density_, std::fabs(log_density_[i]));
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
  // Padding pairs (to a multiple of kWidth) point at entry 0 and own no runs (ψ sums to 0).
  const std::size_t padded_pairs = (unique_keys.size() + kWidth - 1) / kWidth * kWidth;
  pair_params_.resize(padded_pairs, 0);
  pair_density_.resize(padded_pairs, 0);
  for (std::size_t p = 0; p < padded_pairs; ++p) {
    pair_log_params_.push_back(unique_log_params_[pair_params_[p]]);
    pair_log_density_.push_back(unique_log_density_[pair_density_[p]]);
  }
  pair_begin_.assign(padded_pairs + 1, static_cast<int>(runs.size()));
  for (std::size_t i = runs.size(); i-- > 0;) pair_begin_[pair_index_[i]] = static_cast<int>(i);
  for (std::size_t p = padded_pairs; p-- > 0;)  // every pair has a run; kept safe anyway
    pair_begin_[p] = std::min(pair_begin_[p], pair_begin_[p + 1]);
  for (std::size_t i = 1; i < runs.size(); ++i)
    if (pair_index_[i] < pair_index_[i - 1]) fail("fit: internal error: runs not sorted by (N, S)");
  scratch_size_ = scratch_layout(arrays_over(nullptr)).size;
}

detail::FitArrays FitObjective::arrays(Workspace& workspace) const {
  if (workspace.capacity < scratch_size_) {
    workspace.scratch.reset(new double[scratch_size_]);
    workspace.capacity = scratch_size_;
    workspace.owner = nullptr;
  }
  return arrays_over(workspace.scratch.get());
}

detail::FitArrays FitObjective::arrays_over(double* scratch) const {
  return Arrays{log_tokens_.data(),
                log_loss_.data(),
                weight_.data(),
                pair_index_.data(),
                run_count_,
                padded_,
                unique_log_params_.data(),
                unique_log_density_.data(),
                unique_log_params_.size(),
                unique_log_density_.size(),
                pair_params_.data(),
                pair_density_.data(),
                pair_begin_.data(),
                pair_log_params_.data(),
                pair_log_density_.data(),
                pair_params_.size(),
                scratch};
}

double FitObjective::value(const double* theta, Workspace& workspace) const {
  const Arrays in = arrays(workspace);
  workspace.owner = this;
  const int dim = dimension();
  std::copy(theta, theta + dim, workspace.theta.begin());
  // The largest |exponent| any term can have at this θ; within ±700 (always, for θ inside
  // fit_bounds and sane runs) the exps need no clamping, which is 8% of the evaluation.
  const double* th = theta;
  double largest = std::fabs(th[theta::kLogA]) + std::fabs(th[theta::kAlpha]) * max_abs_log_params_;
  largest = std::max(
      largest, std::fabs(th[theta::kLogB]) + std::fabs(th[theta::kBeta]) * max_abs_log_tokens_);
  if (form_ == LawForm::kSparse) {
    largest = std::max(largest, std::fabs(th[theta::kGamma]) * max_abs_log_params_);
    largest = std::max(largest, std::fabs(th[theta::kLogC]) +
                                    std::fabs(th[theta::kLambda]) * max_abs_log_density_);
    largest = std::max(
        largest, std::fabs(th[theta::kLogD]) + std::fabs(th[theta::kDelta]) * max_abs_log_density_);
  }
  if (!(largest <= 700.0))  // NaN included
    return form_ == LawForm::kSparse ? sparse_value_clamped(in, theta)
                                     : dense_value_clamped(in, theta);
  return form_ == LawForm::kSparse ? sparse_value(in, theta) : dense_value(in, theta);
}

void FitObjective::gradient(const double* theta, Workspace& workspace, double* gradient) const {
  if (workspace.owner != this || !std::equal(theta, theta + dimension(), workspace.theta.begin()))
    value(theta, workspace);
  const Arrays in = arrays(workspace);
  if (form_ == LawForm::kSparse)
    sparse_gradient(in, theta, gradient);
  else
    dense_gradient(in, theta, gradient);
}

double FitObjective::evaluate(const double* theta, double* gradient) const {
  // Thread-local scratch: one FitObjective is evaluated from several threads at once.
  thread_local Workspace workspace;
  const double f = value(theta, workspace);
  if (gradient) this->gradient(theta, workspace, gradient);
  return f;
}

double FitObjective::evaluate_reference(const double* th, double* gradient) const {
  const bool sparse = form_ == LawForm::kSparse;
  const int dim = dimension();
  std::vector<double> g(dim, 0.0);
  double total = 0;
  for (std::size_t i = 0; i < run_count_; ++i) {
    const double ln = log_params_[i], ld = log_tokens_[i], ls = log_density_[i];
    std::vector<double> terms = {th[theta::kLogA] - th[theta::kAlpha] * ln,
                                 th[theta::kLogB] - th[theta::kBeta] * ld};
    if (sparse) {
      terms.push_back(th[theta::kLogC] - th[theta::kLambda] * ls);
      terms.push_back(th[theta::kLogD] - th[theta::kDelta] * ls - th[theta::kGamma] * ln);
    }
    terms.push_back(th[theta::log_e(form_)]);
    const double top = *std::max_element(terms.begin(), terms.end());
    double sum = 0;
    for (double t : terms) sum += std::exp(t - top);
    const double r = top + std::log(sum) - log_loss_[i];
    total += weight_[i] * huber(r);
    const double psi = weight_[i] * std::clamp(r, -kHuberDelta, kHuberDelta);
    std::vector<double> soft;
    for (double t : terms) soft.push_back(std::exp(t - top) / sum * psi);
    g[theta::kLogA] += soft[0];
    g[theta::kAlpha] -= soft[0] * ln;
    g[theta::kLogB] += soft[1];
    g[theta::kBeta] -= soft[1] * ld;
    if (sparse) {
      g[theta::kLogC] += soft[2];
      g[theta::kLambda] -= soft[2] * ls;
      g[theta::kLogD] += soft[3];
      g[theta::kDelta] -= soft[3] * ls;
      g[theta::kGamma] -= soft[3] * ln;
    }
    g[theta::log_e(form_)] += soft.back();
  }
  if (gradient) std::copy(g.begin(), g.end(), gradient);
  return total;
}

}  // namespace moeplan::law
