// Finite-difference gradient checks (central differences, fp64) of every layer of the CPU
// reference and of the whole model's total loss, on tiny awkward shapes. The templates under
// test are the same ones the fp32 backend runs.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "law/architecture.h"
#include "util/error.h"
#include "verify/backend.h"
#include "verify/cpu/attention.h"
#include "verify/cpu/encoder.h"
#include "verify/cpu/experts.h"
#include "verify/cpu/loss.h"
#include "verify/cpu/matmul.h"
#include "verify/cpu/model.h"
#include "verify/cpu/norm.h"
#include "verify/cpu/rope.h"
#include "verify/cpu/router.h"

namespace moeplan::verify {
namespace {

using M = Mat<double>;
using V = Vec<double>;

M random_matrix(Eigen::Index rows, Eigen::Index cols, std::mt19937_64& rng, double stddev = 1.0) {
  std::normal_distribution<double> normal(0.0, stddev);
  M m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
  return m;
}

// Largest |analytic − numeric| relative to the largest numeric entry, for ∂f/∂x by central
// differences over every entry of x (perturbed in place).
double fd_relative_error(double* x, Eigen::Index n, const double* analytic,
                         const std::function<double()>& f, double h = 1e-6) {
  double max_diff = 0, max_ref = 1e-12;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = f();
    x[i] = saved - h;
    const double down = f();
    x[i] = saved;
    const double numeric = (up - down) / (2 * h);
    max_diff = std::max(max_diff, std::abs(numeric - analytic[i]));
    max_ref = std::max(max_ref, std::abs(numeric));
  }
  return max_diff / max_ref;
}

constexpr double kTolerance = 1e-6;

TEST(CpuLayers, LinearAndEmbeddingGradients) {
  std::mt19937_64 rng(1);
  M x = random_matrix(7, 5, rng), w = random_matrix(3, 5, rng), r = random_matrix(7, 3, rng);
  const auto f = [&] { return linear_forward<double>(x, w).cwiseProduct(r).sum(); };
  M dw = M::Zero(3, 5);
  const M dx = linear_backward<double>(x, w, r, dw);
  EXPECT_LT(fd_relative_error(x.data(), x.size(), dx.data(), f), kTolerance);
  EXPECT_LT(fd_relative_error(w.data(), w.size(), dw.data(), f), kTolerance);

  M table = random_matrix(11, 4, rng), ry = random_matrix(6, 4, rng);
  const std::int32_t ids[] = {3, 0, 10, 3, 7, 3};
  M dtable = M::Zero(11, 4);
  embedding_backward<double>(ry, ids, dtable);
  const auto g = [&] { return embedding_forward<double>(table, ids, 6).cwiseProduct(ry).sum(); };
  EXPECT_LT(fd_relative_error(table.data(), table.size(), dtable.data(), g), kTolerance);
}

TEST(CpuLayers, RmsNormGradients) {
  std::mt19937_64 rng(2);
  M x = random_matrix(6, 9, rng), r = random_matrix(6, 9, rng);
  V gain = V::Random(9).array() + 1.5;
  V inv;
  const auto f = [&] { return rmsnorm_forward<double>(x, gain, &inv).cwiseProduct(r).sum(); };
  f();
  V dgain = V::Zero(9);
  const M dx = rmsnorm_backward<double>(x, gain, inv, r, dgain);
  EXPECT_LT(fd_relative_error(x.data(), x.size(), dx.data(), f), kTolerance);
  EXPECT_LT(fd_relative_error(gain.data(), gain.size(), dgain.data(), f), kTolerance);
}

TEST(CpuLayers, QkNormSharesOneGainAcrossHeads) {
  std::mt19937_64 rng(3);
  const std::int64_t heads = 2;
  M x = random_matrix(5, 12, rng), r = random_matrix(5, 12, rng);
  V gain = V::Random(6).array() + 1.5;
  V inv;
  const auto f = [&] {
    return head_rmsnorm_forward<double>(x, heads, gain, &inv).cwiseProduct(r).sum();
  };
  f();
  V dgain = V::Zero(6);
  const M dx = head_rmsnorm_backward<double>(x, heads, gain, inv, r, dgain);
  EXPECT_LT(fd_relative_error(x.data(), x.size(), dx.data(), f), kTolerance);
  EXPECT_LT(fd_relative_error(gain.data(), gain.size(), dgain.data(), f), kTolerance);
  // Each head's slice is normalised on its own: head 1 of the output ignores head 0's input.
  M y = head_rmsnorm_forward<double>(x, heads, gain, &inv);
  x.block(0, 0, 5, 6) *= 3.0;
  EXPECT_TRUE(
      head_rmsnorm_forward<double>(x, heads, gain, &inv).rightCols(6).isApprox(y.rightCols(6)));
}

TEST(CpuLayers, RopeMatchesTheTorchReferenceAndItsTranspose) {
  // Pair (x[2i], x[2i+1]) at position p rotates by p·10000^(−2i/hd): check one entry by hand.
  M x = M::Zero(6, 8);  // batch 2 × seq 3, 2 heads of 4
  x(4, 6) = 1.0;        // row 4 = batch 1, position 1; head 1, pair 1 (x[2])
  rope_forward<double>(x, 2, 3);
  const double theta = 1.0 / std::pow(10000.0, 2.0 / 4.0);
  EXPECT_NEAR(x(4, 6), std::cos(theta), 1e-15);
  EXPECT_NEAR(x(4, 7), std::sin(theta), 1e-15);
  std::mt19937_64 rng(4);
  M a = random_matrix(6, 8, rng), r = random_matrix(6, 8, rng);
  const auto f = [&] {
    M y = a;
    rope_forward<double>(y, 2, 3);
    return y.cwiseProduct(r).sum();
  };
  M da = r;
  rope_backward<double>(da, 2, 3);
  EXPECT_LT(fd_relative_error(a.data(), a.size(), da.data(), f), kTolerance);
}

TEST(CpuLayers, CausalAttentionGradientsAndMask) {
  std::mt19937_64 rng(5);
  const std::int64_t seq = 5, heads = 2;
  M q = random_matrix(10, 8, rng), k = random_matrix(10, 8, rng), v = random_matrix(10, 8, rng);
  M r = random_matrix(10, 8, rng);
  std::vector<M> probs;
  const auto f = [&] {
    return attention_forward<double>(q, k, v, seq, heads, &probs).cwiseProduct(r).sum();
  };
  f();
  M dq, dk, dv;
  attention_backward<double>(q, k, v, probs, r, seq, heads, &dq, &dk, &dv);
  EXPECT_LT(fd_relative_error(q.data(), q.size(), dq.data(), f), kTolerance);
  EXPECT_LT(fd_relative_error(k.data(), k.size(), dk.data(), f), kTolerance);
  EXPECT_LT(fd_relative_error(v.data(), v.size(), dv.data(), f), kTolerance);
  // Causality: the first position of each sequence only sees itself.
  const M out = attention_forward<double>(q, k, v, seq, heads, &probs);
  EXPECT_TRUE(out.row(5).isApprox(v.row(5)));
}

// Router logits with well separated probabilities, so that top-K is stable under ±h.
M separated_logits(Eigen::Index tokens, Eigen::Index experts, std::mt19937_64& rng) {
  M logits(tokens, experts);
  std::vector<double> levels(static_cast<std::size_t>(experts));
  for (Eigen::Index t = 0; t < tokens; ++t) {
    for (Eigen::Index e = 0; e < experts; ++e)
      levels[static_cast<std::size_t>(e)] = 0.7 * static_cast<double>(e);
    std::shuffle(levels.begin(), levels.end(), rng);
    for (Eigen::Index e = 0; e < experts; ++e) logits(t, e) = levels[static_cast<std::size_t>(e)];
  }
  return logits + random_matrix(tokens, experts, rng, 0.05);
}

TEST(CpuLayers, RouterLossesAndTheirGradients) {
  std::mt19937_64 rng(6);
  const Eigen::Index tokens = 7, experts = 4;
  const std::int64_t top_k = 2;
  M logits = separated_logits(tokens, experts, rng);
  M weights = random_matrix(tokens, experts, rng);  // a stand-in for ∂loss/∂p from the experts
  const double aux_coef = 0.3, z_coef = 0.7;
  const auto f = [&] {
    const auto r = route_forward<double>(logits, top_k);
    double mix = 0;  // Σ over chosen experts of weight·p, as the experts' output would use p
    for (Eigen::Index t = 0; t < tokens; ++t) {
      for (std::int64_t k = 0; k < top_k; ++k) {
        const auto e = r.expert[static_cast<std::size_t>(t * top_k + k)];
        mix += weights(t, e) * r.probs(t, e);
      }
    }
    return mix + aux_coef * load_balancing_loss(r) + z_coef * router_z_loss(r);
  };
  const auto r = route_forward<double>(logits, top_k);
  M dprobs = M::Zero(tokens, experts);
  for (Eigen::Index t = 0; t < tokens; ++t) {
    for (std::int64_t k = 0; k < top_k; ++k) {
      const auto e = r.expert[static_cast<std::size_t>(t * top_k + k)];
      dprobs(t, e) = weights(t, e);
    }
  }
  const M dlogits = router_backward<double>(r, dprobs, aux_coef, z_coef);
  EXPECT_LT(fd_relative_error(logits.data(), logits.size(), dlogits.data(), f), kTolerance);

  // Values: top-K is by probability, aux = E·Σ f_i·P_i, z = mean lse².
  EXPECT_GT(r.probs(0, r.expert[0]), r.probs(0, r.expert[1]));
  double aux = 0;
  for (Eigen::Index i = 0; i < experts; ++i) {
    aux += static_cast<double>(r.counts[static_cast<std::size_t>(i)]) / (tokens * top_k) *
           r.probs.col(i).mean();
  }
  EXPECT_NEAR(load_balancing_loss(r), experts * aux, 1e-14);
  const double lse0 = std::log(logits.row(0).array().exp().sum());
  EXPECT_NEAR(r.logsumexp(0), lse0, 1e-12);
}

TEST(CpuLayers, ExpertGradients) {
  std::mt19937_64 rng(7);
  const Eigen::Index tokens = 6, d = 8, h = 5, experts = 3;
  const std::int64_t top_k = 2;
  M x = random_matrix(tokens, d, rng), r = random_matrix(tokens, d, rng);
  M w1 = random_matrix(experts * d, h, rng), w3 = random_matrix(experts * d, h, rng);
  M w2 = random_matrix(experts * h, d, rng);
  const auto routing = route_forward<double>(separated_logits(tokens, experts, rng), top_k);
  std::vector<ExpertCache<double>> cache;
  const auto f = [&] {
    return experts_forward<double>(x, routing, w1, w3, w2, &cache).cwiseProduct(r).sum();
  };
  f();
  M dprobs, dw1 = M::Zero(experts * d, h), dw3 = dw1, dw2 = M::Zero(experts * h, d);
  const M dx = experts_backward<double>(routing, w1, w3, w2, cache, r, &dprobs, dw1, dw3, dw2);
  EXPECT_LT(fd_relative_error(x.data(), x.size(), dx.data(), f), kTolerance);
  EXPECT_LT(fd_relative_error(w1.data(), w1.size(), dw1.data(), f), kTolerance);
  EXPECT_LT(fd_relative_error(w3.data(), w3.size(), dw3.data(), f), kTolerance);
  EXPECT_LT(fd_relative_error(w2.data(), w2.size(), dw2.data(), f), kTolerance);
  // ∂/∂p_te = SwiGLU_e(x_t)·r_t at a chosen expert.
  const auto t0 = 2;
  const auto e0 = routing.expert[static_cast<std::size_t>(t0 * top_k)];
  auto probs_routing = routing;
  const double h_step = 1e-6;
  probs_routing.probs(t0, e0) += h_step;
  const double up =
      experts_forward<double>(x, probs_routing, w1, w3, w2, &cache).cwiseProduct(r).sum();
  probs_routing.probs(t0, e0) -= 2 * h_step;
  const double down =
      experts_forward<double>(x, probs_routing, w1, w3, w2, &cache).cwiseProduct(r).sum();
  EXPECT_NEAR(dprobs(t0, e0), (up - down) / (2 * h_step), 1e-7);
}

TEST(CpuLayers, CrossEntropyGradient) {
  std::mt19937_64 rng(8);
  M logits = random_matrix(7, 13, rng);
  const std::int32_t targets[] = {0, 12, 5, 5, 3, 9, 1};
  const auto f = [&] { return cross_entropy_forward<double>(logits, targets); };
  const M d = cross_entropy_backward<double>(logits, targets, 1.0);
  EXPECT_LT(fd_relative_error(logits.data(), logits.size(), d.data(), f), kTolerance);
  // Uniform logits give log V.
  EXPECT_NEAR(cross_entropy_forward<double>(M::Zero(2, 13), targets), std::log(13.0), 1e-14);
}

// The whole model: total loss (CE + aux + z over 2 layers) against central differences for every
// parameter. Weights are drawn larger than the init (std 0.4) so routing is decisive and the
// top-K choice does not flip under the ±h perturbation.
void check_whole_model(const law::MoeArchitecture& arch, std::int64_t batch, std::int64_t seq,
                       std::uint64_t seed) {
  CpuModel<double> model(arch);
  std::mt19937_64 rng(seed);
  auto params = model.zeros();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const bool gain = model.layout()[i].init == ParamInit::kOnes;
    params[i] = gain ? M(M::Constant(params[i].rows(), params[i].cols(), 1.0) +
                         random_matrix(params[i].rows(), params[i].cols(), rng, 0.2))
                     : random_matrix(params[i].rows(), params[i].cols(), rng, 0.4);
  }
  std::vector<std::int32_t> inputs(static_cast<std::size_t>(batch * seq)), targets = inputs;
  std::uniform_int_distribution<std::int32_t> token(0,
                                                    static_cast<std::int32_t>(arch.vocab_size - 1));
  for (auto& t : inputs) t = token(rng);
  for (auto& t : targets) t = token(rng);
  const Batch b{inputs.data(), targets.data(), batch, seq};
  auto grads = model.zeros();
  const LossParts parts = model.forward_backward(params, b, 1.0, &grads);
  EXPECT_TRUE(std::isfinite(parts.total));
  EXPECT_GT(parts.aux, 0.0);
  EXPECT_GT(parts.z, 0.0);
  EXPECT_NEAR(parts.total, parts.ce + kAuxLossCoef * parts.aux + kZLossCoef * parts.z, 1e-12);
  const auto total = [&] { return model.forward_backward(params, b, 1.0, nullptr).total; };
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_LT(fd_relative_error(params[i].data(), params[i].size(), grads[i].data(), total),
              kTolerance)
        << model.layout()[i].name;
  }
  // Gradients accumulate scaled: a second call with scale 0.5 adds half again.
  auto grads2 = grads;
  model.forward_backward(params, b, 0.5, &grads2);
  EXPECT_TRUE(grads2[1].isApprox(grads[1] * 1.5));
}

TEST(CpuModel, WholeModelGradientTopTwoOfFive) {
  // d 12, 2 layers, 2 heads of 6, E 5, K 2, G 4 (h 12), V 13, batch 2 × seq 5.
  check_whole_model(law::make_paper_architecture(12, 2, 2, 5, 2, 4, 13, 8), 2, 5, 11);
}

TEST(CpuModel, WholeModelGradientTopOneOfThree) {
  // d 16, 1 layer, 2 heads of 8, E 3, K 1, G 8 (h 8), V 17, batch 1 × seq 7.
  check_whole_model(law::make_paper_architecture(16, 1, 2, 3, 1, 8, 17, 7), 1, 7, 12);
}

TEST(CpuModel, RejectsTokensOutsideTheVocabulary) {
  const auto arch = law::make_paper_architecture(8, 1, 2, 2, 1, 1, 11, 4);
  CpuModel<double> model(arch);
  const auto params = model.from_host(initial_parameters(arch, 1));
  const std::int32_t inputs[] = {1, 2, 11, 3}, targets[] = {2, 3, 4, 5};
  EXPECT_THROW(model.forward_backward(params, Batch{inputs, targets, 1, 4}, 1.0, nullptr), Error);
}

TEST(CpuBackend, StartsFromTheSharedInitialWeightsAndLearns) {
  const auto arch = law::make_paper_architecture(16, 1, 2, 4, 1, 1, 11, 8);
  auto backend = make_cpu_backend(arch, 3);
  EXPECT_EQ(backend->parameters()[1].data, initial_parameters(arch, 3)[1].data);
  // A fixed batch is memorised: the loss falls over 30 AdamW steps.
  std::vector<std::int32_t> inputs(16), targets(16);
  for (std::size_t i = 0; i < 16; ++i) {
    inputs[i] = static_cast<std::int32_t>(i % 11);
    targets[i] = static_cast<std::int32_t>((i * 3 + 1) % 11);
  }
  const Batch b{inputs.data(), targets.data(), 2, 8};
  const double before = backend->evaluate(b);
  EXPECT_NEAR(before, std::log(11.0), 0.05);
  for (int step = 0; step < 30; ++step) {
    backend->forward_backward(b, 1.0);
    const double norm = backend->optimizer_step(AdamWSettings{}, 1e-2);
    EXPECT_GT(norm, 0.0);
  }
  EXPECT_EQ(backend->optimizer_step_count(), 30);
  EXPECT_LT(backend->evaluate(b), before - 0.5);
}

}  // namespace
}  // namespace moeplan::verify
