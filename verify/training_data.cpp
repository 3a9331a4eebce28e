#include "verify/training_data.h"

#include "util/error.h"
#include "verify/data/data_prepare.h"

namespace moeplan::verify {

TrainingData::TrainingData(const TrainConfig& cfg)
    : context_(cfg.arch.context), vocab_size_(cfg.arch.vocab_size) {
  if (cfg.random_data) {
    validation_ = random_validation_batches(cfg.seed, cfg.val_tokens, context_, vocab_size_,
                                            cfg.micro_batch());
    return;
  }
  const std::int64_t data_vocab = manifest_vocab_size(cfg.data_dir);
  if (data_vocab > vocab_size_) {
    fail("the data in ", cfg.data_dir.string(), " uses a vocabulary of ", data_vocab,
         " tokens (manifest.json) but the model's vocab_size is ", vocab_size_, "; use --vocab ",
         data_vocab, " or more");
  }
  const auto train_shards = find_shards(cfg.data_dir, "train");
  if (train_shards.empty()) {
    fail("no training shards (*_train_*.bin) in ", cfg.data_dir.string(),
         "; make them with 'moeplan data prepare'");
  }
  const auto val_shards = find_shards(cfg.data_dir, "val");
  if (val_shards.empty()) fail("no validation shards (*_val_*.bin) in ", cfg.data_dir.string());
  validation_ = validation_batches(WindowSet(val_shards, context_, vocab_size_, "validation"),
                                   cfg.val_tokens, cfg.micro_batch());
  train_windows_.emplace(train_shards, context_, vocab_size_, "training");
}

void TrainingData::start(std::uint64_t seed) {
  seed_ = seed;
  if (train_windows_) {
    sampler_.emplace(std::move(*train_windows_), seed);
    train_windows_.reset();
  }
}

TokenBatch TrainingData::batch(std::int64_t position, std::int64_t count) {
  return sampler_ ? sampler_->batch(position, count)
                  : random_batch(seed_, kRandomTrainStream, position, count, context_, vocab_size_);
}

double mean_validation_loss(Backend& backend, const std::vector<TokenBatch>& batches) {
  double sum = 0;
  std::int64_t sequences = 0;
  for (const auto& b : batches) {
    sum += backend.evaluate(b.view()) * static_cast<double>(b.count);
    sequences += b.count;
  }
  return sum / static_cast<double>(sequences);
}

}  // namespace moeplan::verify
