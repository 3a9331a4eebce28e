#include <random>

#include "verify/backend.h"
#include "verify/model_layout.h"

namespace moeplan::verify {

std::vector<HostTensor> initial_parameters(const law::MoeArchitecture& arch, std::uint64_t seed) {
  std::vector<HostTensor> params;
  std::mt19937_64 rng(seed);
  for (const auto& spec : parameter_layout(arch)) {
    HostTensor t{spec.name, spec.shape, std::vector<float>(static_cast<std::size_t>(spec.numel()))};
    if (spec.init == ParamInit::kOnes) {
      std::fill(t.data.begin(), t.data.end(), 1.0f);
    } else {
      std::normal_distribution<double> normal(0.0, spec.init_std(arch.n_layers));
      for (auto& x : t.data) x = static_cast<float>(normal(rng));
    }
    params.push_back(std::move(t));
  }
  return params;
}

}  // namespace moeplan::verify
