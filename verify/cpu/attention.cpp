#include "verify/cpu/attention.h"

#include <cmath>
#include <limits>

namespace moeplan::verify {

template <typename S>
Mat<S> attention_forward(MatIn<S> q, MatIn<S> k, MatIn<S> v, std::int64_t seq, std::int64_t heads,
                         std::vector<Mat<S>>* probs) {
  const std::int64_t batch = q.rows() / seq, hd = q.cols() / heads;
  const S scale = S(1) / std::sqrt(static_cast<S>(hd));
  Mat<S> out(q.rows(), q.cols());
  probs->assign(static_cast<std::size_t>(batch * heads), Mat<S>());
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t h = 0; h < heads; ++h) {
      const auto qb = q.block(b * seq, h * hd, seq, hd);
      const auto kb = k.block(b * seq, h * hd, seq, hd);
      const auto vb = v.block(b * seq, h * hd, seq, hd);
      Mat<S> p = (qb * kb.transpose()) * scale;
      for (std::int64_t i = 0; i < seq; ++i) {
        const S m = p.row(i).head(i + 1).maxCoeff();
        S sum = 0;
        for (std::int64_t j = 0; j <= i; ++j) sum += (p(i, j) = std::exp(p(i, j) - m));
        p.row(i).head(i + 1) /= sum;
        p.row(i).tail(seq - i - 1).setZero();
      }
      out.block(b * seq, h * hd, seq, hd).noalias() = p * vb;
      (*probs)[static_cast<std::size_t>(b * heads + h)] = std::move(p);
    }
  }
  return out;
}

template <typename S>
void attention_backward(MatIn<S> q, MatIn<S> k, MatIn<S> v, const std::vector<Mat<S>>& probs,
                        MatIn<S> dout, std::int64_t seq, std::int64_t heads, Mat<S>* dq, Mat<S>* dk,
                        Mat<S>* dv) {
  const std::int64_t batch = q.rows() / seq, hd = q.cols() / heads;
  const S scale = S(1) / std::sqrt(static_cast<S>(hd));
  dq->resize(q.rows(), q.cols());
  dk->resize(q.rows(), q.cols());
  dv->resize(q.rows(), q.cols());
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t h = 0; h < heads; ++h) {
      const Mat<S>& p = probs[static_cast<std::size_t>(b * heads + h)];
      const auto qb = q.block(b * seq, h * hd, seq, hd);
      const auto kb = k.block(b * seq, h * hd, seq, hd);
      const auto vb = v.block(b * seq, h * hd, seq, hd);
      const auto dob = dout.block(b * seq, h * hd, seq, hd);
      dv->block(b * seq, h * hd, seq, hd).noalias() = p.transpose() * dob;
      const Mat<S> dp = dob * vb.transpose();
      Mat<S> ds = p.cwiseProduct(dp);
      const Vec<S> rowdot = ds.rowwise().sum();
      ds -= p.cwiseProduct(rowdot.replicate(1, seq));
      ds *= scale;
      dq->block(b * seq, h * hd, seq, hd).noalias() = ds * kb;
      dk->block(b * seq, h * hd, seq, hd).noalias() = ds.transpose() * qb;
    }
  }
}

#define INSTANTIATE(S)                                                                           \
  template Mat<S> attention_forward<S>(MatIn<S>, MatIn<S>, MatIn<S>, std::int64_t, std::int64_t, \
                                       std::vector<Mat<S>>*);                                    \
  template void attention_backward<S>(MatIn<S>, MatIn<S>, MatIn<S>, const std::vector<Mat<S>>&,  \
                                      MatIn<S>, std::int64_t, std::int64_t, Mat<S>*, Mat<S>*,    \
                                      Mat<S>*);
MOEPLAN_INSTANTIATE_FOR_SCALARS(INSTANTIATE)

}  // namespace moeplan::verify
