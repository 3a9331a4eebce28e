#include "law/sharded_memory.h"

#include "util/error.h"

namespace moeplan::law {

ShardedParams sharded_params(const MoeArchitecture& arch) {
  return sharded_params(arch, count_params(arch));
}

ShardedParams sharded_params(const MoeArchitecture& arch, const ParamCounts& c) {
  ShardedParams p;
  p.experts = static_cast<double>(c.experts_total);
  p.layers_dense = static_cast<double>(c.attention + c.router + c.norms - arch.d_model);
  p.embedding_tables = arch.tied_embeddings ? 1 : 2;
  p.embedding_table = static_cast<double>(arch.vocab_size * arch.d_model);
  p.n_layers = static_cast<double>(arch.n_layers);
  p.d_model = static_cast<double>(arch.d_model);
  p.n_heads = static_cast<double>(arch.n_heads);
  p.context = static_cast<double>(arch.context);
  return p;
}

MemoryBreakdown sharded_memory_per_device(const ShardedParams& p, const ParallelDegrees& g,
                                          const MemorySetup& setup) {
  if (g.tensor < 1 || g.expert < 1 || g.pipeline < 1 || g.data < 1)
    fail("parallel degrees must be at least 1");
  if (g.data % g.expert != 0)
    fail("expert parallelism ", g.expert, " must divide data parallelism ", g.data);
  if (setup.zero_stage < 0 || setup.zero_stage > 3)
    fail("ZeRO stage must be 0, 1, 2 or 3, got ", setup.zero_stage);
  const double tp = g.tensor, pp = g.pipeline, dp = g.data;
  const double expert_dp = dp / g.expert;
  // The first stage's share: its layers and the input embedding (both tables when PP = 1;
  // the final norm is negligible and left out).
  const double tables = g.pipeline == 1 ? p.embedding_tables : 1;
  const double dense = (p.layers_dense / pp + tables * p.embedding_table) / tp;
  const double experts = p.experts / (pp * g.expert * tp);
  auto shard = [&](bool sharded) {
    return sharded ? dense / dp + experts / expert_dp : dense + experts;
  };
  const BytesPerParam bpp = bytes_per_param(setup.regime);
  MemoryBreakdown m;
  m.weights_bytes = bpp.weights * shard(setup.zero_stage >= 3);
  m.grads_bytes = bpp.grads * shard(setup.zero_stage >= 2);
  m.optimizer_bytes = (bpp.master + bpp.optimizer) * shard(setup.zero_stage >= 1);
  if (setup.regime != MemoryRegime::kInferenceBf16)
    m.activation_bytes =
        p.n_layers *
        activation_bytes_per_layer(p.context, setup.micro_batch, p.d_model, p.n_heads) / tp;
  return m;
}

}  // namespace moeplan::law
