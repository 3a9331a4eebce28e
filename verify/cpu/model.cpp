#include "verify/cpu/model.h"

#include <cmath>

#include "util/error.h"
#include "verify/cpu/attention.h"
#include "verify/cpu/encoder.h"
#include "verify/cpu/experts.h"
#include "verify/cpu/loss.h"
#include "verify/cpu/matmul.h"
#include "verify/cpu/norm.h"
#include "verify/cpu/rope.h"
#include "verify/cpu/router.h"

namespace moeplan::verify {
namespace {

// Offsets of one block's tensors in parameter_layout() (10 per layer after emb.weight).
enum BlockParam { kN1, kQkv, kO, kQn, kKn, kN2, kRouter, kW1, kW3, kW2, kPerBlock };

std::size_t block_index(std::int64_t layer, BlockParam p) {
  return static_cast<std::size_t>(1 + layer * kPerBlock + p);
}

template <typename S>
Eigen::Map<const Vec<S>> as_vector(const Mat<S>& m) {
  return Eigen::Map<const Vec<S>>(m.data(), m.size());
}
template <typename S>
Eigen::Map<Vec<S>> as_vector(Mat<S>& m) {
  return Eigen::Map<Vec<S>>(m.data(), m.size());
}

// What the backward pass of one block needs.
template <typename S>
struct BlockCache {
  Mat<S> x_in, a, q_raw, k_raw, q, k, v, att, x_mid, m_in;
  Vec<S> inv_rms1, inv_rms_q, inv_rms_k, inv_rms2;
  std::vector<Mat<S>> probs;
  Routing<S> routing;
  std::vector<ExpertCache<S>> experts;
};

}  // namespace

template <typename S>
CpuModel<S>::CpuModel(const law::MoeArchitecture& arch)
    : arch_(arch), layout_(parameter_layout(arch)) {}

template <typename S>
typename CpuModel<S>::Params CpuModel<S>::zeros() const {
  Params p;
  for (const auto& spec : layout_) {
    const std::int64_t cols = spec.shape.back();
    p.push_back(Mat<S>::Zero(spec.numel() / cols, cols));
  }
  return p;
}

template <typename S>
typename CpuModel<S>::Params CpuModel<S>::from_host(const std::vector<HostTensor>& tensors) const {
  if (tensors.size() != layout_.size()) {
    fail("expected ", layout_.size(), " parameter tensors for ", law::describe(arch_), ", got ",
         tensors.size());
  }
  Params p = zeros();
  for (std::size_t i = 0; i < layout_.size(); ++i) {
    if (tensors[i].name != layout_[i].name) {
      fail("parameter ", i, " is '", tensors[i].name, "', expected '", layout_[i].name, "'");
    }
    if (tensors[i].shape != layout_[i].shape ||
        static_cast<std::int64_t>(tensors[i].data.size()) != layout_[i].numel()) {
      fail("parameter '", layout_[i].name, "' has the wrong shape for ", law::describe(arch_));
    }
    for (std::size_t j = 0; j < tensors[i].data.size(); ++j) {
      p[i].data()[j] = static_cast<S>(tensors[i].data[j]);
    }
  }
  return p;
}

template <typename S>
std::vector<HostTensor> CpuModel<S>::to_host(const Params& params) const {
  std::vector<HostTensor> out;
  for (std::size_t i = 0; i < layout_.size(); ++i) {
    HostTensor t{layout_[i].name, layout_[i].shape, std::vector<float>(params[i].size())};
    for (std::size_t j = 0; j < t.data.size(); ++j)
      t.data[j] = static_cast<float>(params[i].data()[j]);
    out.push_back(std::move(t));
  }
  return out;
}

template <typename S>
LossParts CpuModel<S>::forward_backward(const Params& P, const Batch& batch, double loss_scale,
                                        Params* grads) const {
  const std::int64_t n = batch.batch * batch.seq, L = arch_.n_layers, H = arch_.n_heads;
  const std::int64_t d = arch_.d_model, V = arch_.vocab_size;
  for (std::int64_t t = 0; t < n; ++t) {
    for (const std::int32_t id : {batch.inputs[t], batch.targets[t]}) {
      if (id < 0 || id >= V) fail("token id ", id, " is outside the model's vocabulary of ", V);
    }
  }
  const std::size_t nf = static_cast<std::size_t>(1 + L * kPerBlock);
  const std::size_t out_w = arch_.tied_embeddings ? 0 : nf + 1;

  // ---- forward ----
  LossParts parts;
  std::vector<BlockCache<S>> caches(static_cast<std::size_t>(L));
  Mat<S> x = embedding_forward<S>(P[0], batch.inputs, n);
  for (std::int64_t l = 0; l < L; ++l) {
    BlockCache<S>& c = caches[static_cast<std::size_t>(l)];
    c.x_in = x;
    c.a = rmsnorm_forward<S>(x, as_vector(P[block_index(l, kN1)]), &c.inv_rms1);
    const Mat<S> qkv = linear_forward<S>(c.a, P[block_index(l, kQkv)]);
    c.q_raw = qkv.leftCols(d);
    c.k_raw = qkv.middleCols(d, d);
    c.v = qkv.rightCols(d);
    c.q = head_rmsnorm_forward<S>(c.q_raw, H, as_vector(P[block_index(l, kQn)]), &c.inv_rms_q);
    c.k = head_rmsnorm_forward<S>(c.k_raw, H, as_vector(P[block_index(l, kKn)]), &c.inv_rms_k);
    rope_forward<S>(c.q, H, batch.seq);
    rope_forward<S>(c.k, H, batch.seq);
    c.att = attention_forward<S>(c.q, c.k, c.v, batch.seq, H, &c.probs);
    x += linear_forward<S>(c.att, P[block_index(l, kO)]);
    c.x_mid = x;
    c.m_in = rmsnorm_forward<S>(x, as_vector(P[block_index(l, kN2)]), &c.inv_rms2);
    c.routing = route_forward<S>(linear_forward<S>(c.m_in, P[block_index(l, kRouter)]),
                                 arch_.active_experts);
    parts.aux += static_cast<double>(load_balancing_loss(c.routing));
    parts.z += static_cast<double>(router_z_loss(c.routing));
    x += experts_forward<S>(c.m_in, c.routing, P[block_index(l, kW1)], P[block_index(l, kW3)],
                            P[block_index(l, kW2)], &c.experts);
  }
  Vec<S> inv_rms_f;
  const Mat<S> xf = rmsnorm_forward<S>(x, as_vector(P[nf]), &inv_rms_f);
  const Mat<S> logits = linear_forward<S>(xf, P[out_w]);
  parts.ce = static_cast<double>(cross_entropy_forward<S>(logits, batch.targets));
  parts.total = parts.ce + kAuxLossCoef * parts.aux + kZLossCoef * parts.z;
  if (grads == nullptr) return parts;

  // ---- backward: gradients of loss_scale·total ----
  Params& G = *grads;
  const S scale = static_cast<S>(loss_scale);
  const Mat<S> dlogits = cross_entropy_backward<S>(logits, batch.targets, scale);
  const Mat<S> dxf = linear_backward<S>(xf, P[out_w], dlogits, G[out_w]);
  Mat<S> dx = rmsnorm_backward<S>(x, as_vector(P[nf]), inv_rms_f, dxf, as_vector(G[nf]));
  for (std::int64_t l = L - 1; l >= 0; --l) {
    const BlockCache<S>& c = caches[static_cast<std::size_t>(l)];
    // MoE branch.
    Mat<S> dprobs;
    const Mat<S> dm_experts =
        experts_backward<S>(c.routing, P[block_index(l, kW1)], P[block_index(l, kW3)],
                            P[block_index(l, kW2)], c.experts, dx, &dprobs, G[block_index(l, kW1)],
                            G[block_index(l, kW3)], G[block_index(l, kW2)]);
    const Mat<S> drouter =
        router_backward<S>(c.routing, dprobs, scale * S(kAuxLossCoef), scale * S(kZLossCoef));
    const Mat<S> dm_in = dm_experts + linear_backward<S>(c.m_in, P[block_index(l, kRouter)],
                                                         drouter, G[block_index(l, kRouter)]);
    dx += rmsnorm_backward<S>(c.x_mid, as_vector(P[block_index(l, kN2)]), c.inv_rms2, dm_in,
                              as_vector(G[block_index(l, kN2)]));
    // Attention branch.
    const Mat<S> datt = linear_backward<S>(c.att, P[block_index(l, kO)], dx, G[block_index(l, kO)]);
    Mat<S> dq, dk, dv;
    attention_backward<S>(c.q, c.k, c.v, c.probs, datt, batch.seq, H, &dq, &dk, &dv);
    rope_backward<S>(dq, H, batch.seq);
    rope_backward<S>(dk, H, batch.seq);
    Mat<S> dqkv(n, 3 * d);
    dqkv.leftCols(d) = head_rmsnorm_backward<S>(c.q_raw, H, as_vector(P[block_index(l, kQn)]),
                                                c.inv_rms_q, dq, as_vector(G[block_index(l, kQn)]));
    dqkv.middleCols(d, d) =
        head_rmsnorm_backward<S>(c.k_raw, H, as_vector(P[block_index(l, kKn)]), c.inv_rms_k, dk,
                                 as_vector(G[block_index(l, kKn)]));
    dqkv.rightCols(d) = dv;
    const Mat<S> da =
        linear_backward<S>(c.a, P[block_index(l, kQkv)], dqkv, G[block_index(l, kQkv)]);
    dx += rmsnorm_backward<S>(c.x_in, as_vector(P[block_index(l, kN1)]), c.inv_rms1, da,
                              as_vector(G[block_index(l, kN1)]));
  }
  embedding_backward<S>(dx, batch.inputs, G[0]);
  return parts;
}

template class CpuModel<float>;
template class CpuModel<double>;

}  // namespace moeplan::verify
