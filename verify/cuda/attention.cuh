#pragma once
// Causal scaled-dot-product attention, bf16 in/out, fp32 softmax statistics.
//
// Layout: q, k, v, out are (B, S, H, hd) tensors addressed with a token stride, so attention reads
// q|k|v straight out of the fused (T, 3d) QKV buffer (ld_qkv = 3d) and writes its output as the
// (T, d) input of the output projection (ld_out = d): logically (B, H, S, hd) with strides
// (S·ld, hd, ld, 1), no transposes. lse (B, H, S) fp32 = log Σ_j exp(scale·q·k_j), natural log.
//
// Two implementations behind `Attention`:
//   cuDNN   the fused flash-attention graph built through cuDNN's backend descriptors
//           (attention_cudnn.cu), when the graph finalises on the device;
//   reference  plain CUDA kernels (attention_reference.cu), the tests' oracle and the fallback.
// Which one runs is logged once to stderr.
#include <memory>
#include <string>

#include "verify/cuda/common.cuh"

namespace moeplan::cuda {

struct AttentionShape {
  std::int64_t batch = 0, seq = 0, heads = 0, head_dim = 0;
  std::int64_t ld_qkv = 0;  // elements between consecutive tokens of q, k, v
  std::int64_t ld_out = 0;  // elements between consecutive tokens of out, dout
  float scale() const;      // 1/sqrt(head_dim)
};

void check_attention_shape(const AttentionShape& shape);

// Reference kernels (fp32 accumulation). delta (B, H, S) fp32 is scratch.
void attention_reference_forward(const AttentionShape& shape, const bf16* q, const bf16* k,
                                 const bf16* v, bf16* out, float* lse, cudaStream_t stream);
void attention_reference_backward(const AttentionShape& shape, const bf16* q, const bf16* k,
                                  const bf16* v, const bf16* out, const bf16* dout,
                                  const float* lse, float* delta, bf16* dq, bf16* dk, bf16* dv,
                                  cudaStream_t stream);

// The cuDNN graphs for one shape (forward with stats, backward). Throws when the graphs cannot be
// built or finalised on this device/cuDNN; Attention catches that and falls back.
class CudnnAttention;

enum class AttentionPath { kAuto, kCudnn, kReference };

class Attention {
 public:
  // kAuto: cuDNN if it builds, else the reference kernels. The env var MOEPLAN_ATTENTION
  // (cudnn | reference) overrides kAuto.
  explicit Attention(AttentionPath path = AttentionPath::kAuto);
  ~Attention();
  Attention(const Attention&) = delete;
  Attention& operator=(const Attention&) = delete;

  void forward(const AttentionShape& shape, const bf16* q, const bf16* k, const bf16* v, bf16* out,
               float* lse, cudaStream_t stream);
  // dq, dk, dv use the q/k/v layout (ld_qkv); they may live in one (T, 3d) buffer.
  void backward(const AttentionShape& shape, const bf16* q, const bf16* k, const bf16* v,
                const bf16* out, const bf16* dout, const float* lse, bf16* dq, bf16* dk, bf16* dv,
                cudaStream_t stream);
  // "cudnn" or "reference" once a shape has been seen; "" before.
  std::string path_name() const;

 private:
  void prepare(const AttentionShape& shape);
  AttentionPath requested_;
  bool use_cudnn_ = false;
  bool prepared_ = false;
  AttentionShape prepared_shape_{};
  std::unique_ptr<CudnnAttention> cudnn_;
  DeviceBuffer<float> delta_;  // (B, H, S) reference-backward scratch
  DeviceBuffer<unsigned char> workspace_;
};

}  // namespace moeplan::cuda
