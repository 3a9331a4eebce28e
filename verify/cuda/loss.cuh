#pragma once
// Fused softmax cross-entropy over the vocabulary, one block per token:
//   loss_t = logsumexp(z_t) − z_t[y_t];  dz_t = (softmax(z_t) − onehot(y_t)) · grad_scale
// The gradient overwrites the logits in place (bf16), as in llm.c, so (T, V) is stored once.
#include "verify/cuda/common.cuh"

namespace moeplan::cuda {

// logits (T, V) bf16 (overwritten with dz when grad_scale != 0); targets (T) in [0, V);
// losses (T) fp32 per token; loss_sum (1) fp64 += Σ_t loss_t.
void cross_entropy(bf16* logits, const std::int32_t* targets, float* losses, double* loss_sum,
                   std::int64_t tokens, std::int64_t vocab, float grad_scale, cudaStream_t stream);

}  // namespace moeplan::cuda
