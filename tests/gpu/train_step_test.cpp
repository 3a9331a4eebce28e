// A full training step of a tiny model on the CUDA backend against the CPU reference backend:
// same initial weights, same batch; losses, every gradient tensor, and the weights after AdamW.
#include <gtest/gtest.h>

#include "tests/gpu/gpu_testing.h"
#include "verify/backend.h"

namespace moeplan::cuda::testing {
namespace {

law::MoeArchitecture tiny_arch() {
  law::MoeArchitecture a;
  a.d_model = 64;
  a.n_layers = 2;
  a.n_heads = 4;  // head_dim 16
  a.experts = 5;
  a.active_experts = 2;
  a.granularity = 1;
  a.expert_hidden = 48;
  a.vocab_size = 97;
  a.context = 32;
  return a;
}

// Relative L2 distance between two tensors (robust to the few bf16-sized element outliers).
double relative_l2(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    num += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
    den += double(want[i]) * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

TEST(GpuTrainStep, CudaMatchesCpuBackend) {
  SKIP_WITHOUT_GPU();
  const auto arch = tiny_arch();
  auto cpu = verify::make_cpu_backend(arch, 7);
  auto gpu = verify::make_cuda_backend(arch, 7);
  const std::int64_t B = 3, S = 17;  // awkward: 51 tokens
  std::vector<std::int32_t> in(B * S), tgt(B * S);
  for (std::int64_t i = 0; i < B * S; ++i) {
    in[i] = std::int32_t((i * 37 + 5) % arch.vocab_size);
    tgt[i] = std::int32_t((i * 53 + 11) % arch.vocab_size);
  }
  const verify::Batch batch{in.data(), tgt.data(), B, S};
  // Two micro-batches of gradient accumulation.
  verify::LossParts lc, lg;
  for (int micro = 0; micro < 2; ++micro) {
    lc = cpu->forward_backward(batch, 0.5);
    lg = gpu->forward_backward(batch, 0.5);
  }
  EXPECT_NEAR(lg.ce, lc.ce, kStepRtol * 0.2 * lc.ce);
  EXPECT_NEAR(lg.aux, lc.aux, kStepRtol * lc.aux);
  EXPECT_NEAR(lg.z, lc.z, kStepRtol * lc.z + 1e-4);
  EXPECT_NEAR(lg.total, lc.total, kStepRtol * 0.2 * lc.total);
  const auto gc = cpu->gradients(), gg = gpu->gradients();
  ASSERT_EQ(gc.size(), gg.size());
  for (std::size_t i = 0; i < gc.size(); ++i) {
    ASSERT_EQ(gg[i].name, gc[i].name);
    EXPECT_LT(relative_l2(gg[i].data, gc[i].data), kStepRtol) << "gradient of " << gc[i].name;
  }
  const verify::AdamWSettings settings;
  const double nc = cpu->optimizer_step(settings, 1e-3);
  const double ng = gpu->optimizer_step(settings, 1e-3);
  EXPECT_NEAR(ng, nc, kStepRtol * nc);
  EXPECT_EQ(gpu->optimizer_step_count(), 1);
  const auto pc = cpu->parameters(), pg = gpu->parameters();
  for (std::size_t i = 0; i < pc.size(); ++i)
    EXPECT_LT(relative_l2(pg[i].data, pc[i].data), 1e-2) << "weights of " << pc[i].name;
  for (const auto& t : gpu->gradients())
    for (float x : t.data) ASSERT_EQ(x, 0.0f) << t.name << " not zeroed by the step";
  EXPECT_NEAR(gpu->evaluate(batch), cpu->evaluate(batch), 2e-2 * lc.ce);
}

// Two CUDA backends from the same weights on the same batches agree bit for bit: losses, gradient
// norms and every weight after a few steps (the sums are taken in a fixed order, no atomics).
// With repeated tokens, so that the embedding gradient sums several rows per id.
TEST(GpuTrainStep, RepeatsBitForBit) {
  SKIP_WITHOUT_GPU();
  const auto arch = tiny_arch();
  const std::int64_t B = 4, S = 31;
  std::vector<std::int32_t> in(B * S), tgt(B * S);
  for (std::int64_t i = 0; i < B * S; ++i) {
    in[i] = std::int32_t((i * 7 + 3) % 13);  // 13 distinct ids, each about 10 times
    tgt[i] = std::int32_t((i * 53 + 11) % arch.vocab_size);
  }
  const verify::Batch batch{in.data(), tgt.data(), B, S};
  std::vector<std::vector<verify::HostTensor>> weights;
  std::vector<std::vector<double>> trace;
  for (int run = 0; run < 2; ++run) {
    auto gpu = verify::make_cuda_backend(arch, 11);
    std::vector<double> values;
    for (int step = 0; step < 3; ++step) {
      const verify::LossParts l = gpu->forward_backward(batch, 1.0);
      values.insert(values.end(), {l.ce, l.aux, l.z, l.total});
      values.push_back(gpu->optimizer_step(verify::AdamWSettings{}, 1e-2));
    }
    values.push_back(gpu->evaluate(batch));
    trace.push_back(values);
    weights.push_back(gpu->parameters());
  }
  ASSERT_EQ(trace[0].size(), trace[1].size());
  for (std::size_t i = 0; i < trace[0].size(); ++i) EXPECT_EQ(trace[0][i], trace[1][i]) << i;
  ASSERT_EQ(weights[0].size(), weights[1].size());
  for (std::size_t t = 0; t < weights[0].size(); ++t) {
    ASSERT_EQ(weights[0][t].data.size(), weights[1][t].data.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < weights[0][t].data.size(); ++i)
      differ += weights[0][t].data[i] != weights[1][t].data[i];
    EXPECT_EQ(differ, 0u) << weights[0][t].name;
  }
}

TEST(GpuTrainStep, RejectsBadBatchesWithClearErrors) {
  SKIP_WITHOUT_GPU();
  const auto arch = tiny_arch();
  auto gpu = verify::make_cuda_backend(arch, 1);
  std::vector<std::int32_t> in(40, 1), tgt(40, 1);
  tgt[3] = 97;  // == vocab
  EXPECT_THROW(gpu->forward_backward({in.data(), tgt.data(), 1, 40}, 1.0), Error);  // > context
  EXPECT_THROW(gpu->forward_backward({in.data(), tgt.data(), 2, 20}, 1.0), Error);  // bad target
  auto params = gpu->parameters();
  params[0].shape[0] += 1;
  EXPECT_THROW(gpu->set_parameters(params), Error);
}

}  // namespace
}  // namespace moeplan::cuda::testing
