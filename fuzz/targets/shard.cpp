// llm.c token shards: the header checks, then reading tokens at both ends of the file.
#include "verify/data/shard.h"

#include <algorithm>
#include <vector>

#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static moeplan::fuzz::InputFile file("_train_000000.bin");
  const auto& path = file.write(data, size);
  moeplan::fuzz::accepts([&] { (void)moeplan::verify::read_shard_header(path); });
  moeplan::fuzz::accepts([&] {
    const moeplan::verify::MappedShard shard(path);
    const std::int64_t tokens = shard.info().tokens;
    const std::int64_t window = std::min<std::int64_t>(tokens, 64);
    std::vector<std::int32_t> out(static_cast<std::size_t>(window));
    shard.copy_tokens(0, window, out.data());
    shard.copy_tokens(tokens - window, window, out.data());
    (void)shard.find_token_at_least(0, tokens, 256);
  });
  return 0;
}
