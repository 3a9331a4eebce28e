#pragma once
// cuDNN fused attention through the backend descriptor API (no cudnn-frontend): see
// attention_cudnn.cu for the operation graphs.
#include <cstddef>
#include <memory>

#include "verify/cuda/attention.cuh"

namespace moeplan::cuda {

// The minimum cuDNN at run time: 9.0 (the fused SDPA graphs; attention_cudnn.cu's opening
// comment says why). Below it the CUDA model and CudnnAttention refuse to start.
inline constexpr std::size_t kMinCudnnVersion = 90000;

class CudnnAttention {
 public:
  // Builds and finalises the forward and backward execution plans for `shape`; throws
  // moeplan::Error naming the failing step when cuDNN cannot run them on this device.
  explicit CudnnAttention(const AttentionShape& shape);
  ~CudnnAttention();
  CudnnAttention(const CudnnAttention&) = delete;
  CudnnAttention& operator=(const CudnnAttention&) = delete;

  std::size_t workspace_bytes() const;
  void forward(const bf16* q, const bf16* k, const bf16* v, bf16* out, float* lse, void* workspace,
               cudaStream_t stream);
  void backward(const bf16* q, const bf16* k, const bf16* v, const bf16* out, const bf16* dout,
                const float* lse, bf16* dq, bf16* dk, bf16* dv, void* workspace,
                cudaStream_t stream);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace moeplan::cuda
