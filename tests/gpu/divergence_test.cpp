// The divergence contract on the CUDA backend (verify/backend.h): a non-finite loss or gradient
// norm is returned, not thrown, and the training loop stops with TrainingDiverged naming the
// step and the last good checkpoint, as tests/train_loop_test.cpp checks on the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "tests/gpu/gpu_testing.h"
#include "tests/support/cli_runner.h"
#include "verify/backend.h"
#include "verify/train_loop.h"

namespace moeplan::cuda::testing {
namespace {

using moeplan::testing::TempDir;

law::MoeArchitecture tiny_arch() {
  return law::make_paper_architecture(64, 1, 4, 4, 1, 1, 97, 32);
}

// The weights with the final norm's gain set to NaN: every logit, and so the loss, is NaN.
std::vector<verify::HostTensor> poisoned(std::vector<verify::HostTensor> weights) {
  for (auto& t : weights)
    if (t.name == "nf.weight")
      for (auto& x : t.data) x = std::numeric_limits<float>::quiet_NaN();
  return weights;
}

TEST(GpuDivergence, CudaBackendReturnsANonFiniteLossAndNormInsteadOfThrowing) {
  SKIP_WITHOUT_GPU();
  auto gpu = verify::make_cuda_backend(tiny_arch(), 3);
  gpu->set_parameters(poisoned(gpu->parameters()));
  std::vector<std::int32_t> tokens(2 * 16);
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<std::int32_t>(i % 97);
  const verify::Batch batch{tokens.data(), tokens.data(), 2, 16};
  verify::LossParts loss;
  ASSERT_NO_THROW(loss = gpu->forward_backward(batch, 1.0));
  EXPECT_FALSE(std::isfinite(loss.total));
  double norm = 0;
  ASSERT_NO_THROW(norm = gpu->optimizer_step(verify::AdamWSettings{}, 1e-3));
  EXPECT_FALSE(std::isfinite(norm));
  EXPECT_EQ(gpu->optimizer_step_count(), 0);  // no AdamW step was taken
}

TEST(GpuDivergence, NanLossStopsWithADiagnosisAndKeepsTheLastCheckpoint) {
  SKIP_WITHOUT_GPU();
  TempDir run;
  verify::TrainConfig cfg;
  cfg.arch = tiny_arch();
  cfg.random_data = true;
  cfg.batch_sequences = 4;
  cfg.tokens = 20 * cfg.tokens_per_step();
  cfg.val_tokens = 512;
  cfg.checkpoint_every = 4;
  cfg.out_dir = run / "run";
  cfg.device = "cuda";
  cfg.validate();
  auto backend = verify::make_cuda_backend(cfg.arch, cfg.seed);
  verify::TrainHooks hooks;
  hooks.after_step = [&](std::int64_t step) {
    if (step == 6) backend->set_parameters(poisoned(backend->parameters()));
  };
  std::ostringstream out;
  try {
    verify::run_training(cfg, *backend, out, hooks);
    FAIL() << "no error";
  } catch (const verify::TrainingDiverged& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.step, 7);
    EXPECT_EQ(e.quantity, "training loss");
    EXPECT_TRUE(std::isnan(e.value));
    EXPECT_EQ(e.last_good_checkpoint, run / "run" / "checkpoint.safetensors");
    EXPECT_NE(msg.find("diverged at step 7"), std::string::npos) << msg;
    EXPECT_NE(msg.find("checkpoint.safetensors (step 6 or earlier)"), std::string::npos) << msg;
  }
  auto check = verify::make_cuda_backend(cfg.arch, cfg.seed);
  cfg.resume = run / "run";
  cfg.stop_after_steps = 1;
  EXPECT_EQ(verify::run_training(cfg, *check, out).steps_done, 5);  // the step-4 checkpoint
}

}  // namespace
}  // namespace moeplan::cuda::testing
