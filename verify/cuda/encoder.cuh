#pragma once
// Token embedding lookup (fp32 master rows, like torch's fp32 nn.Embedding under autocast).
#include "verify/cuda/common.cuh"

namespace moeplan::cuda {

// x (T, d) fp32 = table (V, d)[ids (T)]. ids are validated on the host before upload.
void embedding_forward(const std::int32_t* ids, const float* table, float* x, std::int64_t tokens,
                       std::int64_t d, cudaStream_t stream);
// dtable (V, d) += scatter of dx (T, d) by ids: repeated tokens add up, in token order (one
// writer per row, no atomics, so the sum repeats bit for bit).
void embedding_backward(const std::int32_t* ids, const float* dx, float* dtable,
                        std::int64_t tokens, std::int64_t d, cudaStream_t stream);

}  // namespace moeplan::cuda
