// The law, its presets, FLOP and parameter accounting, and the memory model.
#include <gtest/gtest.h>

#include <cmath>

#include "law/architecture.h"
#include "law/flops.h"
#include "law/law_json.h"
#include "law/memory.h"
#include "law/presets.h"
#include "util/error.h"

namespace moeplan::law {
namespace {

TEST(ScalingLaw, Abnar2025PresetHasTable3Coefficients) {
  const ScalingLaw law = preset_law("abnar2025");
  EXPECT_EQ(law.form, LawForm::kSparse);
  EXPECT_DOUBLE_EQ(law.coefficients.a, 16612.50);
  EXPECT_DOUBLE_EQ(law.coefficients.alpha, 0.5962);
  EXPECT_DOUBLE_EQ(law.coefficients.b, 5455.67);
  EXPECT_DOUBLE_EQ(law.coefficients.beta, 0.3954);
  EXPECT_DOUBLE_EQ(law.coefficients.c, 0.4598);
  EXPECT_DOUBLE_EQ(law.coefficients.lambda, -0.1666);
  EXPECT_DOUBLE_EQ(law.coefficients.d, 17.26);
  EXPECT_DOUBLE_EQ(law.coefficients.delta, 0.1603);
  EXPECT_DOUBLE_EQ(law.coefficients.gamma, 0.1595);
  EXPECT_DOUBLE_EQ(law.coefficients.e, 0.94);
  ASSERT_TRUE(law.domain.budget_flops.has_value());
  EXPECT_DOUBLE_EQ(law.domain.budget_flops->lo, 3e19);
  EXPECT_DOUBLE_EQ(law.domain.budget_flops->hi, 1e21);
}

TEST(ScalingLaw, Eq6ByHand) {
  const ScalingLaw law = preset_law("abnar2025");
  const double N = 2e9, D = 4e10, S = 0.75;
  const double expected = 16612.50 / std::pow(N, 0.5962) + 5455.67 / std::pow(D, 0.3954) +
                          0.4598 / std::pow(1 - S, -0.1666) +
                          17.26 / (std::pow(1 - S, 0.1603) * std::pow(N, 0.1595)) + 0.94;
  EXPECT_NEAR(predict_loss(law, N, D, S), expected, 1e-12);
}

TEST(ScalingLaw, DenseLawsIgnoreSparsity) {
  const ScalingLaw law = preset_law("hoffmann2022");
  EXPECT_EQ(law.form, LawForm::kDense);
  const double N = 70e9, D = 1.4e12;
  const double expected = 406.4 / std::pow(N, 0.34) + 410.7 / std::pow(D, 0.28) + 1.69;
  EXPECT_NEAR(predict_loss(law, N, D, 0.0), expected, 1e-12);
  EXPECT_NEAR(predict_loss(law, N, D, 0.9), expected, 1e-12);
  EXPECT_NO_THROW(preset_law("epoch2024"));
}

TEST(ScalingLaw, UnknownPresetSuggests) {
  try {
    preset_law("abnar2052");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'abnar2025'"), std::string::npos);
  }
}

TEST(ScalingLaw, JsonRoundTrip) {
  const ScalingLaw law = preset_law("abnar2025");
  const ScalingLaw back = law_from_json(law_to_json(law), "roundtrip");
  EXPECT_DOUBLE_EQ(predict_loss(back, 1e9, 2e10, 0.5), predict_loss(law, 1e9, 2e10, 0.5));
}

TEST(ScalingLaw, MalformedLawFilesAreRejected) {
  EXPECT_THROW(law_from_json_text("{", "x"), Error);
  EXPECT_THROW(law_from_json_text(R"({"form":"abnar2025"})", "x"), Error);
  EXPECT_THROW(law_from_json_text(R"({"form":"weird","coefficients":{}})", "x"), Error);
  EXPECT_THROW(
      law_from_json_text(R"({"form":"chinchilla","coefficients":{"a":"1","b":1,"e":1,"alpha":1,"beta":1}})", "x"),
      Error);
}

TEST(ScalingLaw, DomainWarningsNameEachQuantity) {
  const ScalingLaw law = preset_law("abnar2025");
  EXPECT_TRUE(domain_warnings(law, 1e20, 1e9, 2e10, 0.5).empty());
  const auto w = domain_warnings(law, 1e23, 1e11, 1e12, 0.99);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].quantity, "budget_flops");
  EXPECT_EQ(w[1].quantity, "total_params");
  EXPECT_EQ(w[2].quantity, "sparsity");
}

TEST(ScalingLaw, BootstrapInterval) {
  ScalingLaw law = preset_law("abnar2025");
  EXPECT_FALSE(predicted_loss_interval(law, 1e9, 2e10, 0.5).has_value());
  for (int i = 0; i < 11; ++i) {
    Coefficients k = law.coefficients;
    k.e = 0.90 + 0.01 * i;  // e from 0.90 to 1.00
    law.bootstrap.push_back(k);
  }
  const auto r = predicted_loss_interval(law, 1e9, 2e10, 0.5, 0.8);
  ASSERT_TRUE(r.has_value());
  const double base = predict_loss(law, 1e9, 2e10, 0.5) - 0.94;
  EXPECT_NEAR(r->lo, base + 0.91, 1e-9);
  EXPECT_NEAR(r->hi, base + 0.99, 1e-9);
}

// The reference bench models of SPEC §6, counted by hand (norms included).
TEST(Architecture, CountsMatchHandArithmetic) {
  const MoeArchitecture a = make_paper_architecture(512, 8, 8, 16, 2, 2, 32768, 1024);
  const ParamCounts c = count_params(a);
  const std::int64_t d = 512, L = 8, V = 32768, h = 4 * 512 / 2, hd = 64;
  EXPECT_EQ(a.expert_hidden, h);
  EXPECT_EQ(c.attention, L * 4 * d * d);
  EXPECT_EQ(c.router, L * d * 16);
  EXPECT_EQ(c.experts_total, L * 16 * 3 * d * h);
  EXPECT_EQ(c.experts_active, L * 2 * 3 * d * h);
  EXPECT_EQ(c.norms, L * (2 * d + 2 * hd) + d);
  EXPECT_EQ(c.embedding, 2 * V * d);
  EXPECT_EQ(c.total, c.attention + c.router + c.experts_total + c.norms + c.embedding);
  EXPECT_EQ(c.active, c.attention + c.router + c.experts_active + c.norms + c.embedding);
  EXPECT_DOUBLE_EQ(a.sparsity(), 14.0 / 16.0);
}

TEST(Architecture, RejectsMalformed) {
  MoeArchitecture a = make_paper_architecture(512, 8, 8, 16, 2, 2, 32768, 1024);
  a.n_heads = 7;
  EXPECT_THROW(count_params(a), Error);
  a = make_paper_architecture(512, 8, 8, 16, 2, 2, 32768, 1024);
  a.active_experts = 17;
  EXPECT_THROW(count_params(a), Error);
  EXPECT_THROW(make_paper_architecture(100, 8, 4, 16, 2, 3, 32768, 1024), Error);
}

TEST(Flops, Eq9MatchesThePaperSimplifiedForm) {
  const MoeArchitecture a = make_paper_architecture(1024, 12, 16, 8, 2, 1, 50432, 2048);
  const double d = 1024, L = 12, T = 2048, V = 50432, C = 6, Ea = 2, G = 1;
  const double eq9 = C * L * d * d * (4 + 2 * T / d + 12 * Ea / G + V / (d * L));
  EXPECT_NEAR(eq9_flops_per_token(a, false), eq9, 1e-6 * eq9);
  EXPECT_NEAR(eq9_flops_per_token(a, true) - eq9, L * 14 * d * 8, 1e-6 * eq9);
  EXPECT_DOUBLE_EQ(flops_per_token(a, FlopsMethod::kSixNaD),
                   6.0 * static_cast<double>(count_params(a).active));
}

TEST(Memory, MegatronBytesPerParameter) {
  EXPECT_DOUBLE_EQ(bytes_per_param(MemoryRegime::kTrainMixedAdamW).total(), 18);
  EXPECT_DOUBLE_EQ(bytes_per_param(MemoryRegime::kTrainBf16Grads).total(), 16);
  EXPECT_DOUBLE_EQ(bytes_per_param(MemoryRegime::kInferenceBf16).total(), 2);
}

TEST(Memory, KorthikantiActivationsAndZeroSharding) {
  EXPECT_DOUBLE_EQ(activation_bytes_per_layer(2048, 1, 4096, 32),
                   2048.0 * 4096 * (34 + 5.0 * 32 * 2048 / 4096));
  MemorySetup setup;
  setup.devices = 8;
  const double N = 1e9;
  setup.zero_stage = 0;
  auto m0 = memory_per_device(N, 0, 1024, 16, 2048, setup);
  EXPECT_DOUBLE_EQ(m0.weights_bytes + m0.grads_bytes + m0.optimizer_bytes, 18 * N);
  setup.zero_stage = 1;
  auto m1 = memory_per_device(N, 0, 1024, 16, 2048, setup);
  EXPECT_DOUBLE_EQ(m1.weights_bytes + m1.grads_bytes + m1.optimizer_bytes, 6 * N + 12 * N / 8);
  setup.zero_stage = 2;
  auto m2 = memory_per_device(N, 0, 1024, 16, 2048, setup);
  EXPECT_DOUBLE_EQ(m2.weights_bytes + m2.grads_bytes + m2.optimizer_bytes, 2 * N + 16 * N / 8);
  setup.zero_stage = 3;
  auto m3 = memory_per_device(N, 0, 1024, 16, 2048, setup);
  EXPECT_DOUBLE_EQ(m3.weights_bytes + m3.grads_bytes + m3.optimizer_bytes, 18 * N / 8);
}

}  // namespace
}  // namespace moeplan::law
