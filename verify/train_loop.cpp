#include "verify/train_loop.h"

#include <csignal>

#include "law/flops.h"
#include "verify/memory_check.h"

namespace moeplan::verify {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void on_sigint(int) {
  g_interrupted = 1;
}

// Installs the SIGINT handler for the loop's lifetime: ^C finishes the step and saves.
class SigintGuard {
 public:
  SigintGuard() {
    g_interrupted = 0;
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_);
  }
  ~SigintGuard() { sigaction(SIGINT, &previous_, nullptr); }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;
  bool interrupted() const { return g_interrupted != 0; }

 private:
  struct sigaction previous_ {};
};

}  // namespace

double training_flops_per_token(const law::MoeArchitecture& a) {
  const double d = static_cast<double>(a.d_model);
  return law::six_na_plus_attention_flops_per_token(
      static_cast<double>(law::count_params(a).active), static_cast<double>(a.n_layers),
      static_cast<double>(a.context), d, d);
}

TrainOutcome run_training(const TrainConfig& cfg, Backend& backend, std::ostream& out,
                          const TrainHooks& hooks) {
  TrainingRun run(cfg, backend, out, hooks);
  SigintGuard sigint;
  while (!run.finished()) {
    run.step();
    if (sigint.interrupted()) return run.finish(RunEnd::kInterrupted);
    if (run.stop_requested()) return run.finish(RunEnd::kStopped);
  }
  return run.finish(RunEnd::kDone);
}

TrainOutcome train(const TrainConfig& config, std::ostream& out) {
  return train(config, out, {});
}

TrainOutcome train(const TrainConfig& config, std::ostream& out, const TrainHooks& hooks) {
  config.validate();
  check_memory_before_allocating(config.arch, config.micro_batch(), config.device);
  auto backend = config.device == "cpu" ? make_cpu_backend(config.arch, config.seed)
                                        : make_cuda_backend(config.arch, config.seed);
  return run_training(config, *backend, out, hooks);
}

}  // namespace moeplan::verify
