#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "verify/cuda/attention.cuh"
#include "verify/cuda/attention_cudnn.cuh"

namespace moeplan::cuda {

float AttentionShape::scale() const {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
}

namespace {

AttentionPath path_from_env(AttentionPath requested) {
  if (requested != AttentionPath::kAuto) return requested;
  const char* env = std::getenv("MOEPLAN_ATTENTION");
  if (!env || !*env) return AttentionPath::kAuto;
  if (std::strcmp(env, "cudnn") == 0) return AttentionPath::kCudnn;
  if (std::strcmp(env, "reference") == 0) return AttentionPath::kReference;
  fail("MOEPLAN_ATTENTION='", env, "' is not one of: cudnn, reference");
}

bool same_shape(const AttentionShape& a, const AttentionShape& b) {
  return a.batch == b.batch && a.seq == b.seq && a.heads == b.heads && a.head_dim == b.head_dim &&
         a.ld_qkv == b.ld_qkv && a.ld_out == b.ld_out;
}

}  // namespace

Attention::Attention(AttentionPath path) : requested_(path_from_env(path)) {}
Attention::~Attention() = default;

std::string Attention::path_name() const {
  if (!prepared_) return "";
  return use_cudnn_ ? "cudnn" : "reference";
}

void Attention::prepare(const AttentionShape& shape) {
  check_attention_shape(shape);
  if (prepared_ && same_shape(shape, prepared_shape_)) return;
  const bool first = !prepared_;
  cudnn_.reset();
  use_cudnn_ = false;
  std::string why_not;
  if (requested_ != AttentionPath::kReference) {
    try {
      cudnn_ = std::make_unique<CudnnAttention>(shape);
      workspace_.resize(cudnn_->workspace_bytes());
      use_cudnn_ = true;
    } catch (const Error& e) {
      if (requested_ == AttentionPath::kCudnn) throw;
      why_not = e.what();
    }
  }
  delta_.resize(static_cast<std::size_t>(shape.batch * shape.heads * shape.seq));
  prepared_ = true;
  prepared_shape_ = shape;
  if (first) {
    if (use_cudnn_)
      std::fprintf(stderr, "moeplan: attention: cuDNN fused graph (cuDNN %zu)\n", cudnnGetVersion());
    else if (requested_ == AttentionPath::kReference)
      std::fprintf(stderr, "moeplan: attention: reference CUDA kernels (requested)\n");
    else
      std::fprintf(stderr, "moeplan: attention: reference CUDA kernels (cuDNN graph unavailable: %s)\n",
                   why_not.c_str());
  }
}

void Attention::forward(const AttentionShape& shape, const bf16* q, const bf16* k, const bf16* v,
                        bf16* out, float* lse, cudaStream_t stream) {
  prepare(shape);
  if (use_cudnn_)
    cudnn_->forward(q, k, v, out, lse, workspace_.get(), stream);
  else
    attention_reference_forward(shape, q, k, v, out, lse, stream);
}

void Attention::backward(const AttentionShape& shape, const bf16* q, const bf16* k, const bf16* v,
                         const bf16* out, const bf16* dout, const float* lse, bf16* dq, bf16* dk,
                         bf16* dv, cudaStream_t stream) {
  prepare(shape);
  if (use_cudnn_)
    cudnn_->backward(q, k, v, out, dout, lse, dq, dk, dv, workspace_.get(), stream);
  else
    attention_reference_backward(shape, q, k, v, out, dout, lse, delta_.get(), dq, dk, dv, stream);
}

}  // namespace moeplan::cuda
