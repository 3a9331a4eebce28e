#pragma once
// Batches from llm.c shards. A sequence is a window of seq+1 consecutive tokens of one shard
// (inputs = first seq, targets = last seq); windows start every seq tokens.
//   Training: the windows of all *_train_* shards, visited in a random order that is a pure
//     function of (seed, epoch): position p (sequences consumed so far) is window
//     perm_{epoch}[p mod W], epoch = p div W. Resuming needs only p and the seed.
//   Validation: the first ceil(val_tokens/seq) windows of the *_val_* shards, in order; the
//     validation loss is the mean cross-entropy over all their target tokens.
//   Random (--random-data, for throughput benchmarks at any vocabulary): window i of stream s
//     is seq+1 tokens drawn uniformly from [0, vocab) by a generator seeded from (seed, s, i),
//     so it is a pure function like the shard order (resume and --dump-batches repeat it).
//     Training uses stream 0 at position p; validation the first windows of stream 1.
#include <cstdint>
#include <filesystem>
#include <random>
#include <vector>

#include "verify/backend.h"
#include "verify/data/shard.h"

namespace moeplan::verify {

// Token ids of `count` sequences, (count, seq) each, as Batch needs them.
struct TokenBatch {
  std::vector<std::int32_t> inputs, targets;
  std::int64_t count = 0, seq = 0;
  Batch view() const { return Batch{inputs.data(), targets.data(), count, seq}; }
};

class WindowSet {
 public:
  // Maps every shard for the set's lifetime. Throws when no shard holds a full window, or when a
  // token any window covers is >= vocab_size: the ids are checked once here, at the data
  // boundary, so append() is a plain copy.
  WindowSet(const std::vector<ShardInfo>& shards, std::int64_t seq, std::int64_t vocab_size,
            const std::string& what);
  std::int64_t size() const { return static_cast<std::int64_t>(windows_.size()); }
  std::int64_t seq() const { return seq_; }
  std::int64_t total_tokens() const { return total_tokens_; }
  // Appends window `index` to `batch`.
  void append(std::int64_t index, TokenBatch* batch) const;

 private:
  struct Window {
    std::int32_t shard;
    std::int64_t offset;
  };
  std::vector<MappedShard> shards_;
  std::vector<Window> windows_;
  std::int64_t seq_, total_tokens_ = 0;
};

class TrainSampler {
 public:
  TrainSampler(WindowSet windows, std::uint64_t seed);
  // The `count` sequences at positions [position, position + count).
  TokenBatch batch(std::int64_t position, std::int64_t count);
  const WindowSet& windows() const { return windows_; }

 private:
  const std::vector<std::int64_t>& permutation(std::int64_t epoch);
  WindowSet windows_;
  std::uint64_t seed_;
  std::int64_t cached_epoch_ = -1;
  std::vector<std::int64_t> perm_;
};

inline constexpr std::uint64_t kRandomTrainStream = 0;
inline constexpr std::uint64_t kRandomValidationStream = 1;

// `count` random windows of stream `stream` starting at window `first`.
TokenBatch random_batch(std::uint64_t seed, std::uint64_t stream, std::int64_t first,
                        std::int64_t count, std::int64_t seq, std::int64_t vocab_size);

// The random validation batches: ceil(val_tokens/seq) windows of kRandomValidationStream in
// batches of up to `batch_sequences`.
std::vector<TokenBatch> random_validation_batches(std::uint64_t seed, std::int64_t val_tokens,
                                                  std::int64_t seq, std::int64_t vocab_size,
                                                  std::int64_t batch_sequences);

// The validation batches: the first windows covering `val_tokens` target tokens (fewer when the
// split is smaller), in batches of up to `batch_sequences`.
std::vector<TokenBatch> validation_batches(const WindowSet& windows, std::int64_t val_tokens,
                                           std::int64_t batch_sequences);

}  // namespace moeplan::verify
