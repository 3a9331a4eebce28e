// The cuDNN fused-attention graph on its own: trainer-sized shapes against the reference kernels,
// repeat calls (the fp32 dQ accumulator in the workspace must start from zero every time), the
// workspace size, and the dispatcher reporting the cuDNN path. Skips without a GPU, and when the
// graph cannot be built on this device/cuDNN (the dispatcher then falls back, tested elsewhere).
#include "verify/cuda/attention_cudnn.cuh"

#include <gtest/gtest.h>

#include "tests/gpu/gpu_testing.h"
#include "verify/cuda/attention.cuh"

namespace moeplan::cuda::testing {
namespace {

#define SKIP_WITHOUT_CUDNN_GRAPH(shape)                                       \
  do {                                                                        \
    try {                                                                     \
      CudnnAttention probe_(shape);                                           \
    } catch (const Error& e) {                                                \
      GTEST_SKIP() << "cuDNN attention graph unavailable here: " << e.what(); \
    }                                                                         \
  } while (0)

struct Outputs {
  std::vector<float> out, lse, dqkv;
};

// Forward then backward through `attention`, q|k|v read from one (T, 3d) buffer as the model does.
Outputs run(Attention& attention, const AttentionShape& s, const DeviceBuffer<bf16>& qkv,
            const DeviceBuffer<bf16>& dout) {
  const std::int64_t d = s.heads * s.head_dim, T = s.batch * s.seq;
  DeviceBuffer<bf16> out(std::size_t(T * d)), dqkv(std::size_t(T * 3 * d));
  DeviceBuffer<float> lse(std::size_t(s.batch * s.heads * s.seq));
  const bf16* q = qkv.get();
  attention.forward(s, q, q + d, q + 2 * d, out.get(), lse.get(), nullptr);
  attention.backward(s, q, q + d, q + 2 * d, out.get(), dout.get(), lse.get(), dqkv.get(),
                     dqkv.get() + d, dqkv.get() + 2 * d, nullptr);
  return {to_host_float(out), to_host(lse), to_host_float(dqkv)};
}

// Sequence lengths and head sizes the trainer uses (d = H·hd, ld_qkv = 3d, ld_out = d).
const AttentionShape kTrainerShapes[] = {
    {2, 128, 4, 64, 3 * 256, 256}, {1, 256, 2, 128, 3 * 256, 256}, {3, 100, 2, 32, 3 * 64, 64}};

TEST(GpuCudnnAttention, MatchesReferenceKernelsAtTrainerShapes) {
  SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_CUDNN_GRAPH(kTrainerShapes[0]);
  for (const auto& s : kTrainerShapes) {
    SCOPED_TRACE("B=" + std::to_string(s.batch) + " S=" + std::to_string(s.seq) +
                 " H=" + std::to_string(s.heads) + " hd=" + std::to_string(s.head_dim));
    const std::int64_t d = s.heads * s.head_dim, T = s.batch * s.seq;
    const auto qkv = to_device_bf16(random_vector(std::size_t(T * 3 * d), 41));
    const auto dout = to_device_bf16(random_vector(std::size_t(T * d), 42));
    Attention reference(AttentionPath::kReference), cudnn(AttentionPath::kCudnn);
    const auto want = run(reference, s, qkv, dout);
    const auto got = run(cudnn, s, qkv, dout);
    EXPECT_EQ(cudnn.path_name(), "cudnn");
    expect_close(got.out, want.out, kBf16Rtol, kBf16Atol, "out");
    expect_close(got.lse, want.lse, 1e-3, 1e-3, "lse");
    expect_close(got.dqkv, want.dqkv, kBf16Rtol, kBf16Atol, "dqkv");
  }
}

TEST(GpuCudnnAttention, RepeatedStepsGiveIdenticalResults) {
  SKIP_WITHOUT_GPU();
  const AttentionShape s = kTrainerShapes[0];
  SKIP_WITHOUT_CUDNN_GRAPH(s);
  const std::int64_t d = s.heads * s.head_dim, T = s.batch * s.seq;
  const auto qkv = to_device_bf16(random_vector(std::size_t(T * 3 * d), 43));
  const auto dout = to_device_bf16(random_vector(std::size_t(T * d), 44));
  Attention cudnn(AttentionPath::kCudnn);
  const auto first = run(cudnn, s, qkv, dout);
  const auto second = run(cudnn, s, qkv, dout);  // same workspace, cached plans
  expect_close(second.out, first.out, 0, 0, "out (second step)");
  expect_close(second.lse, first.lse, 0, 0, "lse (second step)");
  // dQ goes through an fp32 accumulator that must be cleared each step; cuDNN may reduce in
  // a different order between runs, so allow bf16 rounding but not a doubled gradient.
  expect_close(second.dqkv, first.dqkv, kBf16Rtol, kBf16Atol, "dqkv (second step)");
}

TEST(GpuCudnnAttention, WorkspaceHoldsTheFp32Accumulators) {
  SKIP_WITHOUT_GPU();
  const AttentionShape s = kTrainerShapes[1];
  SKIP_WITHOUT_CUDNN_GRAPH(s);
  CudnnAttention graph(s);
  const auto rows = static_cast<std::size_t>(s.batch * s.heads * s.seq);
  const std::size_t accumulators =
      rows * (static_cast<std::size_t>(s.head_dim) + 1) * sizeof(float);
  EXPECT_GE(graph.workspace_bytes(), accumulators);
}

}  // namespace
}  // namespace moeplan::cuda::testing
