#pragma once
// The contract between the training loop (verify/train*.cpp) and a model implementation:
// the Eigen CPU reference (verify/cpu/) or the CUDA model (verify/cuda/). The loop owns
// data, schedule, logging and checkpoints; a backend owns parameters, gradients and AdamW state.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "law/architecture.h"

namespace moeplan::verify {

// The number of elements of a tensor of this shape (1 for a scalar).
inline std::int64_t numel(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

// A named fp32 host tensor; row-major; names and shapes from parameter_layout().
struct HostTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> data;
};

// Token ids of one micro-batch in host memory, row-major (batch, seq): targets are inputs
// shifted by one position in the stream.
struct Batch {
  const std::int32_t* inputs = nullptr;   // (batch, seq)
  const std::int32_t* targets = nullptr;  // (batch, seq)
  std::int64_t batch = 0;
  std::int64_t seq = 0;
};

struct LossParts {
  double total = 0;  // ce + kAuxLossCoef·aux + kZLossCoef·z   (what is differentiated)
  double ce = 0;     // mean cross-entropy over the batch's tokens
  double aux = 0;    // Σ over layers of the Switch load-balancing loss
  double z = 0;      // Σ over layers of the router z-loss
};

struct AdamWSettings {
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 1e-5;
  double grad_clip = 1.0;  // global L2 norm; <= 0 disables clipping
};

// The clipping factor c = min(1, grad_clip / (grad_norm + 1e-6)) of
// torch.nn.utils.clip_grad_norm_, 1 when clipping is off or not needed (or the norm is NaN).
// Both backends scale their gradients by it.
inline double clip_coefficient(double grad_norm, double grad_clip) {
  if (grad_clip <= 0) return 1.0;
  const double c = grad_clip / (grad_norm + 1e-6);
  return c < 1.0 ? c : 1.0;
}

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;  // "cpu", "cuda"
  virtual const law::MoeArchitecture& architecture() const = 0;

  // Weights (fp32 master copy) in parameter_layout() order.
  virtual std::vector<HostTensor> parameters() const = 0;
  virtual void set_parameters(const std::vector<HostTensor>& values) = 0;  // checks names/shapes

  // AdamW first and second moments (same layout as parameters) and the step count.
  virtual std::vector<HostTensor> optimizer_moments(bool second) const = 0;
  virtual void set_optimizer_state(const std::vector<HostTensor>& m, const std::vector<HostTensor>& v,
                                   std::int64_t step) = 0;
  virtual std::int64_t optimizer_step_count() const = 0;

  // Divergence: forward_backward, optimizer_step and evaluate never throw for a non-finite loss
  // or gradient norm; they return it (NaN/Inf) and the training loop decides; optimizer_step
  // with a non-finite norm leaves the weights and the AdamW state as they were.
  // (verify/divergence.h: TrainingDiverged names the step, the value, the LR and the last good
  // checkpoint). They throw moeplan::Error only for bad input or a failing device.

  // Forward and backward on one micro-batch; gradients of loss_scale·total are *added* to the
  // gradient buffers (gradient accumulation: loss_scale = 1/micro_batches).
  virtual LossParts forward_backward(const Batch& batch, double loss_scale) = 0;

  // Global gradient L2 norm (before clipping), clipping, one AdamW step (decoupled weight decay,
  // bias-corrected moments, torch.optim.AdamW semantics) at learning rate `lr`, then zero the
  // gradients. Returns the pre-clip gradient norm.
  virtual double optimizer_step(const AdamWSettings& settings, double lr) = 0;

  // Forward only: mean cross-entropy (no aux/z terms) of the batch.
  virtual double evaluate(const Batch& batch) = 0;

  // Current gradient buffers (for tests and the GPU-vs-CPU check), in layout order.
  virtual std::vector<HostTensor> gradients() const = 0;
};

// The Eigen reference (fp32). Defined in verify/cpu/backend.cpp.
std::unique_ptr<Backend> make_cpu_backend(const law::MoeArchitecture& arch, std::uint64_t seed);
// The CUDA model, through libmoeplan_cuda.so opened on first use (verify/cuda_library.h); throws
// moeplan::Error naming the library that is missing (the trainer, cuBLAS or cuDNN).
std::unique_ptr<Backend> make_cuda_backend(const law::MoeArchitecture& arch, std::uint64_t seed);

// Deterministic initial weights per parameter_layout() (N(0, std) from a seeded generator, norm
// gains 1). Both backends start from these, so CPU and CUDA runs are comparable.
std::vector<HostTensor> initial_parameters(const law::MoeArchitecture& arch, std::uint64_t seed);

}  // namespace moeplan::verify
