#include "verify/cpu/experts.h"

#include <cmath>

namespace moeplan::verify {
namespace {

template <typename S>
S sigmoid(S u) {
  return S(1) / (S(1) + std::exp(-u));
}

}  // namespace

template <typename S>
Mat<S> experts_forward(MatIn<S> x, const Routing<S>& routing, MatIn<S> w1, MatIn<S> w3, MatIn<S> w2,
                       std::vector<ExpertCache<S>>* cache) {
  const Eigen::Index tokens = x.rows(), d = x.cols(), experts = routing.probs.cols();
  const Eigen::Index h = w1.cols();
  cache->assign(static_cast<std::size_t>(experts), ExpertCache<S>());
  for (Eigen::Index t = 0; t < tokens; ++t) {
    for (std::int64_t k = 0; k < routing.top_k; ++k) {
      const auto e = routing.expert[static_cast<std::size_t>(t * routing.top_k + k)];
      (*cache)[static_cast<std::size_t>(e)].tokens.push_back(t);
    }
  }
  Mat<S> out = Mat<S>::Zero(tokens, d);
  for (Eigen::Index e = 0; e < experts; ++e) {
    ExpertCache<S>& c = (*cache)[static_cast<std::size_t>(e)];
    const auto n = static_cast<Eigen::Index>(c.tokens.size());
    if (n == 0) continue;
    c.x.resize(n, d);
    for (Eigen::Index i = 0; i < n; ++i) c.x.row(i) = x.row(c.tokens[static_cast<std::size_t>(i)]);
    c.gate.noalias() = c.x * w1.middleRows(e * d, d);
    c.up.noalias() = c.x * w3.middleRows(e * d, d);
    c.act = c.gate.unaryExpr([](S u) { return u * sigmoid(u); }).cwiseProduct(c.up);
    c.y.noalias() = c.act * w2.middleRows(e * h, h);
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto t = c.tokens[static_cast<std::size_t>(i)];
      out.row(t) += routing.probs(t, e) * c.y.row(i);
    }
  }
  return out;
}

template <typename S>
Mat<S> experts_backward(const Routing<S>& routing, MatIn<S> w1, MatIn<S> w3, MatIn<S> w2,
                        const std::vector<ExpertCache<S>>& cache, MatIn<S> dout, Mat<S>* dprobs,
                        MatOut<S> dw1, MatOut<S> dw3, MatOut<S> dw2) {
  const Eigen::Index tokens = dout.rows(), d = dout.cols(), experts = routing.probs.cols();
  const Eigen::Index h = w1.cols();
  Mat<S> dx = Mat<S>::Zero(tokens, d);
  *dprobs = Mat<S>::Zero(tokens, experts);
  for (Eigen::Index e = 0; e < experts; ++e) {
    const ExpertCache<S>& c = cache[static_cast<std::size_t>(e)];
    const auto n = static_cast<Eigen::Index>(c.tokens.size());
    if (n == 0) continue;
    Mat<S> dy(n, d);
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto t = c.tokens[static_cast<std::size_t>(i)];
      (*dprobs)(t, e) = c.y.row(i).dot(dout.row(t));
      dy.row(i) = routing.probs(t, e) * dout.row(t);
    }
    dw2.middleRows(e * h, h).noalias() += c.act.transpose() * dy;
    const Mat<S> dact = dy * w2.middleRows(e * h, h).transpose();
    Mat<S> dgate(n, h), dup(n, h);
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index j = 0; j < h; ++j) {
        const S u = c.gate(i, j), s = sigmoid(u);
        dup(i, j) = dact(i, j) * u * s;
        dgate(i, j) = dact(i, j) * c.up(i, j) * s * (S(1) + u * (S(1) - s));
      }
    }
    dw1.middleRows(e * d, d).noalias() += c.x.transpose() * dgate;
    dw3.middleRows(e * d, d).noalias() += c.x.transpose() * dup;
    const Mat<S> dxe =
        dgate * w1.middleRows(e * d, d).transpose() + dup * w3.middleRows(e * d, d).transpose();
    for (Eigen::Index i = 0; i < n; ++i)
      dx.row(c.tokens[static_cast<std::size_t>(i)]) += dxe.row(i);
  }
  return dx;
}

#define INSTANTIATE(S)                                                                          \
  template Mat<S> experts_forward<S>(MatIn<S>, const Routing<S>&, MatIn<S>, MatIn<S>, MatIn<S>, \
                                     std::vector<ExpertCache<S>>*);                             \
  template Mat<S> experts_backward<S>(const Routing<S>&, MatIn<S>, MatIn<S>, MatIn<S>,          \
                                      const std::vector<ExpertCache<S>>&, MatIn<S>, Mat<S>*,    \
                                      MatOut<S>, MatOut<S>, MatOut<S>);
MOEPLAN_INSTANTIATE_FOR_SCALARS(INSTANTIATE)

}  // namespace moeplan::verify
