#include "verify/model_layout.h"

#include <cmath>

#include "verify/backend.h"

namespace moeplan::verify {

std::int64_t ParamSpec::numel() const {
  return verify::numel(shape);
}

double ParamSpec::init_std(std::int64_t n_layers) const {
  switch (init) {
    case ParamInit::kNormal: return kInitStd;
    case ParamInit::kNormalResidual: return kInitStd / std::sqrt(2.0 * static_cast<double>(n_layers));
    case ParamInit::kOnes: return 0.0;
  }
  return 0.0;
}

std::vector<ParamSpec> parameter_layout(const law::MoeArchitecture& a) {
  law::validate(a);
  const std::int64_t d = a.d_model, V = a.vocab_size, E = a.experts, h = a.expert_hidden,
                     hd = a.head_dim();
  std::vector<ParamSpec> layout;
  layout.push_back({"emb.weight", {V, d}, ParamInit::kNormal});
  for (std::int64_t i = 0; i < a.n_layers; ++i) {
    const std::string p = "blocks." + std::to_string(i) + ".";
    layout.push_back({p + "n1.weight", {d}, ParamInit::kOnes});
    layout.push_back({p + "qkv.weight", {3 * d, d}, ParamInit::kNormal});
    layout.push_back({p + "o.weight", {d, d}, ParamInit::kNormalResidual});
    layout.push_back({p + "qn.weight", {hd}, ParamInit::kOnes});
    layout.push_back({p + "kn.weight", {hd}, ParamInit::kOnes});
    layout.push_back({p + "n2.weight", {d}, ParamInit::kOnes});
    layout.push_back({p + "moe.router.weight", {E, d}, ParamInit::kNormal});
    layout.push_back({p + "moe.w1", {E, d, h}, ParamInit::kNormal});
    layout.push_back({p + "moe.w3", {E, d, h}, ParamInit::kNormal});
    layout.push_back({p + "moe.w2", {E, h, d}, ParamInit::kNormalResidual});
  }
  layout.push_back({"nf.weight", {d}, ParamInit::kOnes});
  if (!a.tied_embeddings) layout.push_back({"out.weight", {V, d}, ParamInit::kNormal});
  return layout;
}

std::int64_t parameter_count(const std::vector<ParamSpec>& layout) {
  std::int64_t n = 0;
  for (const auto& p : layout) n += p.numel();
  return n;
}

}  // namespace moeplan::verify
