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

// One block per token t; only the block of the first occurrence of id v = ids[t] continues, and
// it adds the rows of every token with id v to dtable[v] in token order. Each row of the table
// has one writer and a fixed order, so the result repeats bit for bit (an atomicAdd per token
// did not). The ids are scanned 32 at a time with warp ballots.
constexpr int kBackwardThreads = 256;

__global__ void embedding_backward_kernel(const std::int32_t* __restrict__ ids,
                                          const float* __restrict__ dx, float* dtable,
                                          std::int64_t tokens, int d) {
  __shared__ unsigned masks[kBackwardThreads / 32];
  __shared__ int earlier;
  const std::int64_t t = blockIdx.x;
  const std::int32_t v = ids[t];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  constexpr int kWarpsPerBlock = kBackwardThreads / 32;
  // Columns in tiles of 4·256, four per thread in registers; the ids are rescanned per tile.
  for (int tile = 0; tile < d; tile += 4 * kBackwardThreads) {
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (std::int64_t base = 0; base < tokens; base += kBackwardThreads) {
      const std::int64_t j = base + threadIdx.x;
      const bool match = j < tokens && ids[j] == v;
      const unsigned ballot = __ballot_sync(0xffffffffu, match);
      if (lane == 0) masks[warp] = ballot;
      if (threadIdx.x == 0) earlier = 0;
      __syncthreads();
      if (match && j < t) earlier = 1;  // an earlier token owns this id
      __syncthreads();
      if (earlier) return;  // uniform across the block
      for (int w = 0; w < kWarpsPerBlock; ++w) {
        for (unsigned m = masks[w]; m != 0; m &= m - 1) {
          const float* row = dx + (base + w * 32 + (__ffs(m) - 1)) * d;
          for (int c = 0; c < 4; ++c) {
            const int i = tile + threadIdx.x + c * kBackwardThreads;
            if (i < d) acc[c] += row[i];
          }
        }
      }
      __syncthreads();  // masks and `earlier` are rewritten by the next chunk
    }
    float* out = dtable + static_cast<std::int64_t>(v) * d;
    for (int c = 0; c < 4; ++c) {
      const int i = tile + threadIdx.x + c * kBackwardThreads;
      if (i < d) out[i] += acc[c];
    }
  }
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
  embedding_backward_kernel<<<static_cast<unsigned>(tokens), kBackwardThreads, 0, stream>>>(
      ids, dx, dtable, tokens, static_cast<int>(d));
  CUDA_CHECK_LAUNCH();
}

}  // namespace moeplan::cuda
