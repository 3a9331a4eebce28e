#include "verify/train_loop.h"

#include "law/flops.h"
#include "util/sigint.h"
#include "verify/memory_check.h"

namespace moeplan::verify {

double training_flops_per_token(const law::MoeArchitecture& a) {
  const double d = static_cast<double>(a.d_model);
  return law::six_na_plus_attention_flops_per_token(
      static_cast<double>(law::count_params(a).active), static_cast<double>(a.n_layers),
      static_cast<double>(a.context), d, d);
}

TrainOutcome run_training(const TrainConfig& cfg, Backend& backend, std::ostream& out,
                          const TrainHooks& hooks) {
  TrainingRun run(cfg, backend, out, hooks);
  const SigintFlag sigint;  // ^C finishes the step and saves
  while (!run.finished()) {
    run.step();
    if (sigint.raised()) return run.finish(RunEnd::kInterrupted);
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
