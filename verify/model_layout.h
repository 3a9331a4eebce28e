#pragma once
// The trained model's parameters: names, shapes and initialisation, shared by the CPU reference,
// the CUDA model, checkpoints (safetensors) and the PyTorch comparison script. Names and shapes
// are exactly those of shared/bench/torch_moe_ref.py's `named_parameters()`, so a checkpoint
// loads into that model with `load_state_dict` (Linear weights are (out, in), row-major).
//
//   emb.weight                      (V, d)       N(0, 0.02)
//   blocks.{i}.n1.weight            (d)          1
//   blocks.{i}.qkv.weight           (3d, d)      N(0, 0.02)   rows: q | k | v, each (H, hd)
//   blocks.{i}.o.weight             (d, d)       N(0, 0.02/sqrt(2L))
//   blocks.{i}.qn.weight            (hd)         1            QK-norm gain, shared by heads
//   blocks.{i}.kn.weight            (hd)         1
//   blocks.{i}.n2.weight            (d)          1
//   blocks.{i}.moe.router.weight    (E, d)       N(0, 0.02)
//   blocks.{i}.moe.w1               (E, d, h)    N(0, 0.02)   gate: silu(x·w1)
//   blocks.{i}.moe.w3               (E, d, h)    N(0, 0.02)   up
//   blocks.{i}.moe.w2               (E, h, d)    N(0, 0.02/sqrt(2L))  down
//   nf.weight                       (d)          1
//   out.weight                      (V, d)       N(0, 0.02)
//
// Model conventions (SPEC §4): pre-RMSNorm (eps kRmsNormEps, no bias), RoPE base 10000 on
// interleaved pairs (x[2i], x[2i+1]) as torch_moe_ref.rope, applied after QK-norm; causal
// attention with scale 1/sqrt(hd); router p = softmax(x·Wrᵀ) in fp32, top-K by p, output
// Σ_k p_k·SwiGLU_k(x) without renormalisation, dropless; loss = CE + 0.02·Σ_layers aux +
// 1e-3·Σ_layers z, aux = E·Σ_i f_i·P_i (f_i: fraction of the T·K assignments to expert i,
// P_i: mean router probability), z = mean_t logsumexp(logits_t)².
#include <cstdint>
#include <string>
#include <vector>

#include "law/architecture.h"

namespace moeplan::verify {

inline constexpr double kRmsNormEps = 1e-6;
inline constexpr double kRopeBase = 10000.0;
inline constexpr double kInitStd = 0.02;
inline constexpr double kAuxLossCoef = 0.02;
inline constexpr double kZLossCoef = 1e-3;
// The most active experts per token the CUDA router takes (its per-thread top-K buffer, checked
// when the CUDA model is built); the CPU reference has no limit.
inline constexpr std::int64_t kMaxCudaTopK = 16;

enum class ParamInit { kNormal, kNormalResidual, kOnes };

struct ParamSpec {
  std::string name;
  std::vector<std::int64_t> shape;
  ParamInit init = ParamInit::kNormal;
  std::int64_t numel() const;
  double init_std(std::int64_t n_layers) const;  // 0 for kOnes
};

// Every parameter in a fixed order (the order above, layer by layer).
std::vector<ParamSpec> parameter_layout(const law::MoeArchitecture& arch);

// Σ numel over the layout; equals law::count_params(arch).total (tested).
std::int64_t parameter_count(const std::vector<ParamSpec>& layout);

}  // namespace moeplan::verify
