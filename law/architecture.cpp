#include "law/architecture.h"

#include <sstream>

#include "util/checked_count.h"
#include "util/error.h"

namespace moeplan::law {

std::int64_t paper_expert_hidden(std::int64_t d_model, std::int64_t granularity) {
  if (granularity <= 0) fail("granularity must be positive, got ", granularity);
  const std::int64_t four_d = (CheckedCount(d_model) * 4).value();
  if (four_d % granularity != 0)
    fail("expert width 4*d_model/G is not whole: d_model ", d_model, ", G ", granularity);
  return four_d / granularity;
}

MoeArchitecture make_paper_architecture(std::int64_t d_model, std::int64_t n_layers,
                                        std::int64_t n_heads, std::int64_t experts,
                                        std::int64_t active_experts, std::int64_t granularity,
                                        std::int64_t vocab_size, std::int64_t context) {
  MoeArchitecture a;
  a.d_model = d_model;
  a.n_layers = n_layers;
  a.n_heads = n_heads;
  a.experts = experts;
  a.active_experts = active_experts;
  a.granularity = granularity;
  a.expert_hidden = paper_expert_hidden(d_model, granularity);
  a.vocab_size = vocab_size;
  a.context = context;
  return a;
}

void validate(const MoeArchitecture& a) {
  if (a.d_model <= 0) fail("d_model must be positive, got ", a.d_model);
  if (a.n_layers <= 0) fail("n_layers must be positive, got ", a.n_layers);
  if (a.n_layers > kMaxLayers)
    fail("n_layers ", a.n_layers, " is more than the ", kMaxLayers, " moeplan builds");
  if (a.n_heads <= 0) fail("n_heads must be positive, got ", a.n_heads);
  if (a.d_model % a.n_heads != 0)
    fail("d_model ", a.d_model, " is not divisible by n_heads ", a.n_heads);
  if (a.head_dim() % 2 != 0) fail("head_dim ", a.head_dim(), " must be even for RoPE");
  if (a.experts <= 0) fail("experts must be positive, got ", a.experts);
  if (a.active_experts <= 0 || a.active_experts > a.experts)
    fail("active_experts must be in [1, experts=", a.experts, "], got ", a.active_experts);
  if (a.granularity <= 0) fail("granularity must be positive, got ", a.granularity);
  if (a.expert_hidden <= 0) fail("expert_hidden must be positive, got ", a.expert_hidden);
  if (a.vocab_size <= 0) fail("vocab_size must be positive, got ", a.vocab_size);
  if (a.context <= 0) fail("context must be positive, got ", a.context);
}

ParamCounts count_params(const MoeArchitecture& a) {
  validate(a);
  // Checked (util/checked_count.h): a hostile ARCH.json's dimensions overflow int64 here.
  const CheckedCount d = a.d_model, layers = a.n_layers;
  const CheckedCount expert = d * a.expert_hidden * 3;  // w1, w3: d×h; w2: h×d (SwiGLU)
  const CheckedCount attention = layers * d * d * 4;
  const CheckedCount router = layers * d * a.experts;
  const CheckedCount experts_total = layers * expert * a.experts;
  const CheckedCount experts_active = layers * expert * a.active_experts;
  const CheckedCount norms = layers * (d * 2 + CheckedCount(a.head_dim()) * 2) + d;
  const CheckedCount embedding = d * a.vocab_size * (a.tied_embeddings ? 1 : 2);
  const CheckedCount shared = attention + router + norms + embedding;
  ParamCounts c;
  c.attention = attention.value();
  c.router = router.value();
  c.experts_total = experts_total.value();
  c.experts_active = experts_active.value();
  c.norms = norms.value();
  c.embedding = embedding.value();
  c.total = (shared + experts_total).value();
  c.active = (shared + experts_active).value();
  return c;
}

std::string describe(const MoeArchitecture& a) {
  std::ostringstream s;
  s << "d" << a.d_model << " L" << a.n_layers << " H" << a.n_heads << " E" << a.experts << " K"
    << a.active_experts << " G" << a.granularity << " h" << a.expert_hidden << " V"
    << a.vocab_size << " T" << a.context;
  return s.str();
}

}  // namespace moeplan::law
