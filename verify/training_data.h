#pragma once
// Where a training run's batches come from: llm.c shards (--data) or uniform random tokens
// (--random-data), both pure functions of (seed, position), as verify/data/data_loader.h says.
#include <cstdint>
#include <optional>
#include <vector>

#include "verify/backend.h"
#include "verify/data/data_loader.h"
#include "verify/train_config.h"

namespace moeplan::verify {

class TrainingData {
 public:
  // Checks the data against the model (vocabulary, training and validation shards) and loads
  // the validation batches. Throws moeplan::Error saying what is missing.
  explicit TrainingData(const TrainConfig& config);

  // Starts the training order of `seed` (the checkpoint's after a resume); before batch().
  void start(std::uint64_t seed);
  // The `count` training sequences at positions [position, position + count).
  TokenBatch batch(std::int64_t position, std::int64_t count);
  const std::vector<TokenBatch>& validation() const { return validation_; }

 private:
  std::int64_t context_, vocab_size_;
  std::uint64_t seed_ = 0;
  std::optional<WindowSet> train_windows_;  // until start()
  std::optional<TrainSampler> sampler_;     // shards; none with random data
  std::vector<TokenBatch> validation_;
};

// The mean cross-entropy over the validation batches, weighted by their sequences.
double mean_validation_loss(Backend& backend, const std::vector<TokenBatch>& batches);

}  // namespace moeplan::verify
