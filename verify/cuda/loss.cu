#include "verify/cuda/loss.cuh"
#include "verify/cuda/reduce.cuh"

namespace moeplan::cuda {
namespace {

constexpr int kThreads = 512;

__global__ void cross_entropy_kernel(bf16* logits, const std::int32_t* __restrict__ targets,
                                     float* __restrict__ losses, std::int64_t vocab,
                                     float grad_scale) {
  __shared__ float scratch[32];
  const std::int64_t t = blockIdx.x;
  bf16* row = logits + t * vocab;
  float m = -INFINITY;
  for (std::int64_t j = threadIdx.x; j < vocab; j += blockDim.x)
    m = fmaxf(m, __bfloat162float(row[j]));
  m = block_max(m, scratch);
  float s = 0.0f;
  for (std::int64_t j = threadIdx.x; j < vocab; j += blockDim.x)
    s += expf(__bfloat162float(row[j]) - m);
  s = block_sum(s, scratch);  // synchronises: every read of `row` is done before the writes
  const float lse = m + logf(s);
  const int y = targets[t];
  const float target_logit = __bfloat162float(row[y]);
  __syncthreads();  // row[y] read by all threads before anyone overwrites it
  if (threadIdx.x == 0) losses[t] = lse - target_logit;
  if (grad_scale != 0.0f) {
    for (std::int64_t j = threadIdx.x; j < vocab; j += blockDim.x) {
      const float p = expf(__bfloat162float(row[j]) - lse);
      row[j] = __float2bfloat16((p - (j == y ? 1.0f : 0.0f)) * grad_scale);
    }
  }
}

}  // namespace

void cross_entropy(bf16* logits, const std::int32_t* targets, float* losses, double* loss_sum,
                   std::int64_t tokens, std::int64_t vocab, float grad_scale, cudaStream_t stream) {
  MOEPLAN_REQUIRE(tokens > 0 && tokens < (1LL << 31), "tokens=", tokens);
  MOEPLAN_REQUIRE(vocab > 0, "vocab=", vocab);
  cross_entropy_kernel<<<static_cast<unsigned>(tokens), kThreads, 0, stream>>>(
      logits, targets, losses, vocab, grad_scale);
  CUDA_CHECK_LAUNCH();
  deterministic_sum(ValuesOf<float>{losses}, tokens, loss_sum, stream);
}

}  // namespace moeplan::cuda
