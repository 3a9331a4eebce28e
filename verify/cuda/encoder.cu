#include "verify/cuda/encoder.cuh"

namespace moeplan::cuda {
namespace {

__global__ void embedding_forward_kernel(const std::int32_t* __restrict__ ids,
                                         const float* __restrict__ table, float* __restrict__ x,
                                         std::int64_t tokens, int d) {
  const std::int64_t t = blockIdx.x;
  if (t >= tokens) return;
  const float* row = table + static_cast<std::int64_t>(ids[t]) * d;
  for (int i = threadIdx.x; i < d; i += blockDim.x) x[t * d + i] = row[i];
}

__global__ void embedding_backward_kernel(const std::int32_t* __restrict__ ids,
                                          const float* __restrict__ dx, float* dtable,
                                          std::int64_t tokens, int d) {
  const std::int64_t t = blockIdx.x;
  if (t >= tokens) return;
  float* row = dtable + static_cast<std::int64_t>(ids[t]) * d;
  for (int i = threadIdx.x; i < d; i += blockDim.x) atomicAdd(&row[i], dx[t * d + i]);
}

}  // namespace

void embedding_forward(const std::int32_t* ids, const float* table, float* x, std::int64_t tokens,
                       std::int64_t d, cudaStream_t stream) {
  MOEPLAN_REQUIRE(tokens > 0 && tokens < (1LL << 31) && d > 0, "tokens=", tokens, " d=", d);
  embedding_forward_kernel<<<static_cast<unsigned>(tokens), 256, 0, stream>>>(
      ids, table, x, tokens, static_cast<int>(d));
  CUDA_CHECK_LAUNCH();
}

void embedding_backward(const std::int32_t* ids, const float* dx, float* dtable,
                        std::int64_t tokens, std::int64_t d, cudaStream_t stream) {
  MOEPLAN_REQUIRE(tokens > 0 && tokens < (1LL << 31) && d > 0, "tokens=", tokens, " d=", d);
  embedding_backward_kernel<<<static_cast<unsigned>(tokens), 256, 0, stream>>>(
      ids, dx, dtable, tokens, static_cast<int>(d));
  CUDA_CHECK_LAUNCH();
}

}  // namespace moeplan::cuda
