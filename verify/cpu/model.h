#pragma once
// The whole model on the CPU (Eigen), templated on the scalar: fp32 for training
// (make_cpu_backend), fp64 for the finite-difference gradient checks of the same code.
//   x = emb[ids];  L × [x += o(Attn(rope(qn(q)), rope(kn(k)), v)) with q|k|v = qkv(n1(x));
//                       x += MoE(n2(x))];  logits = out(nf(x))
//   total = CE + kAuxLossCoef·Σ_layers aux + kZLossCoef·Σ_layers z
#include <vector>

#include "law/architecture.h"
#include "verify/backend.h"
#include "verify/cpu/tensor.h"
#include "verify/model_layout.h"

namespace moeplan::verify {

template <typename S>
class CpuModel {
 public:
  // One matrix per parameter_layout() entry: (numel / last dim, last dim), row-major, so the
  // memory is the tensor's row-major layout.
  using Params = std::vector<Mat<S>>;

  explicit CpuModel(const law::MoeArchitecture& arch);
  const law::MoeArchitecture& architecture() const { return arch_; }
  const std::vector<ParamSpec>& layout() const { return layout_; }

  Params zeros() const;
  // Checks names, order and shapes against the layout; throws moeplan::Error naming the tensor.
  Params from_host(const std::vector<HostTensor>& tensors) const;
  std::vector<HostTensor> to_host(const Params& params) const;

  // Loss parts of the batch; when `grads` is given, adds loss_scale·∂total/∂θ to it.
  LossParts forward_backward(const Params& params, const Batch& batch, double loss_scale,
                             Params* grads) const;

 private:
  law::MoeArchitecture arch_;
  std::vector<ParamSpec> layout_;
};

extern template class CpuModel<float>;
extern template class CpuModel<double>;

}  // namespace moeplan::verify
