#include "verify/cpu/router.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moeplan::verify {

template <typename S>
Routing<S> route_forward(MatIn<S> logits, std::int64_t top_k) {
  const Eigen::Index tokens = logits.rows(), experts = logits.cols();
  Routing<S> r;
  r.top_k = top_k;
  r.probs.resize(tokens, experts);
  r.logsumexp.resize(tokens);
  r.expert.resize(static_cast<std::size_t>(tokens * top_k));
  r.counts.assign(static_cast<std::size_t>(experts), 0);
  std::vector<std::int32_t> order(static_cast<std::size_t>(experts));
  for (Eigen::Index t = 0; t < tokens; ++t) {
    const S m = logits.row(t).maxCoeff();
    const S sum = (logits.row(t).array() - m).exp().sum();
    r.logsumexp(t) = m + std::log(sum);
    r.probs.row(t) = (logits.row(t).array() - r.logsumexp(t)).exp().matrix();
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + top_k, order.end(),
                      [&](std::int32_t a, std::int32_t b) {
                        const S pa = r.probs(t, a), pb = r.probs(t, b);
                        return pa > pb || (pa == pb && a < b);
                      });
    for (std::int64_t k = 0; k < top_k; ++k) {
      r.expert[static_cast<std::size_t>(t * top_k + k)] = order[static_cast<std::size_t>(k)];
      ++r.counts[static_cast<std::size_t>(order[static_cast<std::size_t>(k)])];
    }
  }
  return r;
}

template <typename S>
S load_balancing_loss(const Routing<S>& r) {
  const Eigen::Index tokens = r.probs.rows(), experts = r.probs.cols();
  const S assignments = static_cast<S>(tokens * r.top_k);
  S sum = 0;
  for (Eigen::Index i = 0; i < experts; ++i) {
    const S f = static_cast<S>(r.counts[static_cast<std::size_t>(i)]) / assignments;
    sum += f * r.probs.col(i).mean();
  }
  return static_cast<S>(experts) * sum;
}

template <typename S>
S router_z_loss(const Routing<S>& r) {
  return r.logsumexp.squaredNorm() / static_cast<S>(r.logsumexp.size());
}

template <typename S>
Mat<S> router_backward(const Routing<S>& r, MatIn<S> dprobs, S aux_coef, S z_coef) {
  const Eigen::Index tokens = r.probs.rows(), experts = r.probs.cols();
  const S n = static_cast<S>(tokens), assignments = static_cast<S>(tokens * r.top_k);
  Vec<S> aux_grad(experts);  // ∂(aux_coef·aux)/∂p_ti, the same for every token
  for (Eigen::Index i = 0; i < experts; ++i) {
    aux_grad(i) = aux_coef * static_cast<S>(experts) *
                  (static_cast<S>(r.counts[static_cast<std::size_t>(i)]) / assignments) / n;
  }
  Mat<S> dlogits(tokens, experts);
  for (Eigen::Index t = 0; t < tokens; ++t) {
    const auto p = r.probs.row(t);
    const auto g = dprobs.row(t) + aux_grad.transpose();
    const S dot = p.dot(g);
    dlogits.row(t) =
        p.cwiseProduct((g.array() - dot).matrix()) + p * (z_coef * S(2) * r.logsumexp(t) / n);
  }
  return dlogits;
}

#define INSTANTIATE(S)                                          \
  template Routing<S> route_forward<S>(MatIn<S>, std::int64_t); \
  template S load_balancing_loss<S>(const Routing<S>&);         \
  template S router_z_loss<S>(const Routing<S>&);               \
  template Mat<S> router_backward<S>(const Routing<S>&, MatIn<S>, S, S);
MOEPLAN_INSTANTIATE_FOR_SCALARS(INSTANTIATE)

}  // namespace moeplan::verify
