#include "verify/data/data_loader.h"

#include <algorithm>
#include <numeric>

#include "util/error.h"

namespace moeplan::verify {

WindowSet::WindowSet(const std::vector<ShardInfo>& shards, std::int64_t seq,
                     std::int64_t vocab_size, const std::string& what)
    : seq_(seq) {
  shards_.reserve(shards.size());
  for (const ShardInfo& info : shards) shards_.emplace_back(info.path);
  for (std::size_t s = 0; s < shards_.size(); ++s) {
    const ShardInfo& info = shards_[s].info();
    total_tokens_ += info.tokens;
    std::int64_t covered_end = 0;  // windows overlap by one token and cover [0, covered_end)
    for (std::int64_t off = 0; off + seq + 1 <= info.tokens; off += seq) {
      windows_.push_back({static_cast<std::int32_t>(s), off});
      covered_end = off + seq + 1;
    }
    const std::int64_t bad = shards_[s].find_token_at_least(0, covered_end, vocab_size);
    if (bad >= 0) {
      std::int32_t id = 0;
      shards_[s].copy_tokens(bad, 1, &id);
      fail("token id ", id, " at position ", bad, " of ", info.path.string(),
           " does not fit the model's vocab_size ", vocab_size);
    }
  }
  if (windows_.empty()) {
    fail("the ", what, " shards hold ", total_tokens_, " tokens in ", shards_.size(),
         " file(s): no shard has the ", seq + 1, " tokens one sequence of context ", seq, " needs");
  }
}

void WindowSet::append(std::int64_t index, TokenBatch* batch) const {
  const Window& w = windows_.at(static_cast<std::size_t>(index));
  const MappedShard& shard = shards_[static_cast<std::size_t>(w.shard)];
  // Inputs are tokens [offset, offset + seq), targets the same window shifted by one.
  const std::size_t n = static_cast<std::size_t>(seq_);
  const std::size_t in_at = batch->inputs.size(), target_at = batch->targets.size();
  batch->inputs.resize(in_at + n);
  batch->targets.resize(target_at + n);
  shard.copy_tokens(w.offset, seq_, batch->inputs.data() + in_at);
  shard.copy_tokens(w.offset + 1, seq_, batch->targets.data() + target_at);
  batch->seq = seq_;
  ++batch->count;
}

TrainSampler::TrainSampler(WindowSet windows, std::uint64_t seed)
    : windows_(std::move(windows)), seed_(seed) {}

const std::vector<std::int64_t>& TrainSampler::permutation(std::int64_t epoch) {
  if (epoch != cached_epoch_) {
    perm_.resize(static_cast<std::size_t>(windows_.size()));
    std::iota(perm_.begin(), perm_.end(), 0);
    // Fisher-Yates with our own index draws: std::shuffle's algorithm is not specified, and the
    // order must be the same on every machine for resume and CPU/GPU comparisons.
    std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(epoch));
    for (std::size_t i = perm_.size(); i > 1; --i) {
      std::swap(perm_[i - 1], perm_[static_cast<std::size_t>(rng() % i)]);
    }
    cached_epoch_ = epoch;
  }
  return perm_;
}

TokenBatch TrainSampler::batch(std::int64_t position, std::int64_t count) {
  TokenBatch b;
  for (std::int64_t p = position; p < position + count; ++p) {
    const auto& perm = permutation(p / windows_.size());
    windows_.append(perm[static_cast<std::size_t>(p % windows_.size())], &b);
  }
  return b;
}

std::vector<TokenBatch> validation_batches(const WindowSet& windows, std::int64_t val_tokens,
                                           std::int64_t batch_sequences) {
  const std::int64_t wanted = (val_tokens + windows.seq() - 1) / windows.seq();
  const std::int64_t n = std::min(std::max<std::int64_t>(wanted, 1), windows.size());
  std::vector<TokenBatch> batches;
  for (std::int64_t i = 0; i < n; ++i) {
    if (i % batch_sequences == 0) batches.emplace_back();
    windows.append(i, &batches.back());
  }
  return batches;
}

TokenBatch random_batch(std::uint64_t seed, std::uint64_t stream, std::int64_t first,
                        std::int64_t count, std::int64_t seq, std::int64_t vocab_size) {
  TokenBatch b;
  b.seq = seq;
  b.count = count;
  std::vector<std::int32_t> window(static_cast<std::size_t>(seq + 1));
  for (std::int64_t i = first; i < first + count; ++i) {
    // One generator per window (seeded by a mix of seed, stream and index) keeps any window
    // reproducible on its own. The modulo bias, vocab/2^64, is negligible.
    std::seed_seq mix{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                      static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(i),
                      static_cast<std::uint32_t>(static_cast<std::uint64_t>(i) >> 32)};
    std::mt19937_64 rng(mix);
    for (auto& t : window)
      t = static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(vocab_size));
    b.inputs.insert(b.inputs.end(), window.begin(), window.end() - 1);
    b.targets.insert(b.targets.end(), window.begin() + 1, window.end());
  }
  return b;
}

std::vector<TokenBatch> random_validation_batches(std::uint64_t seed, std::int64_t val_tokens,
                                                  std::int64_t seq, std::int64_t vocab_size,
                                                  std::int64_t batch_sequences) {
  const std::int64_t n = std::max<std::int64_t>(1, (val_tokens + seq - 1) / seq);
  std::vector<TokenBatch> batches;
  for (std::int64_t first = 0; first < n; first += batch_sequences) {
    batches.push_back(random_batch(seed, kRandomValidationStream, first,
                                   std::min(batch_sequences, n - first), seq, vocab_size));
  }
  return batches;
}

}  // namespace moeplan::verify
