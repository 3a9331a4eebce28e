// verify::Backend on the CPU: the fp32 Eigen reference with fp32 AdamW state.
#include "verify/backend.h"

#include <cmath>

#include "util/error.h"
#include "verify/cpu/adamw.h"
#include "verify/cpu/model.h"

namespace moeplan::verify {
namespace {

class CpuBackend final : public Backend {
 public:
  CpuBackend(const law::MoeArchitecture& arch, std::uint64_t seed)
      : model_(arch),
        params_(model_.from_host(initial_parameters(arch, seed))),
        grads_(model_.zeros()),
        m_(model_.zeros()),
        v_(model_.zeros()) {}

  std::string name() const override { return "cpu"; }
  const law::MoeArchitecture& architecture() const override { return model_.architecture(); }

  std::vector<HostTensor> parameters() const override { return model_.to_host(params_); }
  void set_parameters(const std::vector<HostTensor>& values) override {
    params_ = model_.from_host(values);
  }

  std::vector<HostTensor> optimizer_moments(bool second) const override {
    return model_.to_host(second ? v_ : m_);
  }
  void set_optimizer_state(const std::vector<HostTensor>& m, const std::vector<HostTensor>& v,
                           std::int64_t step) override {
    if (step < 0) fail("negative optimizer step count ", step);
    auto new_m = model_.from_host(m);
    auto new_v = model_.from_host(v);
    m_ = std::move(new_m);
    v_ = std::move(new_v);
    step_ = step;
  }
  std::int64_t optimizer_step_count() const override { return step_; }

  LossParts forward_backward(const Batch& batch, double loss_scale) override {
    return model_.forward_backward(params_, batch, loss_scale, &grads_);
  }

  double optimizer_step(const AdamWSettings& settings, double lr) override {
    double sum_squares = 0;
    for (const auto& g : grads_) {
      for (Eigen::Index i = 0; i < g.size(); ++i) {
        sum_squares += static_cast<double>(g.data()[i]) * static_cast<double>(g.data()[i]);
      }
    }
    const double norm = std::sqrt(sum_squares);
    if (!std::isfinite(norm)) return norm;  // the caller stops; the weights stay as they were
    const double clip = clip_coefficient(norm, settings.grad_clip);
    ++step_;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      adamw_update(params_[i].data(), grads_[i].data(), m_[i].data(), v_[i].data(),
                   params_[i].size(), settings, lr, step_, clip);
      grads_[i].setZero();
    }
    return norm;
  }

  double evaluate(const Batch& batch) override {
    return model_.forward_backward(params_, batch, 1.0, nullptr).ce;
  }

  std::vector<HostTensor> gradients() const override { return model_.to_host(grads_); }

 private:
  CpuModel<float> model_;
  CpuModel<float>::Params params_, grads_, m_, v_;
  std::int64_t step_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const law::MoeArchitecture& arch, std::uint64_t seed) {
  return std::make_unique<CpuBackend>(arch, seed);
}

}  // namespace moeplan::verify
