// safetensors files: checkpoints (`train --resume`) and `train --init` weights for a tiny model.
#include "verify/safetensors.h"

#include "fuzz/fuzz_input.h"
#include "law/architecture.h"
#include "verify/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static moeplan::fuzz::InputFile file(".safetensors");
  static const auto tiny = moeplan::law::make_paper_architecture(8, 1, 2, 2, 1, 1, 16, 8);
  const auto& path = file.write(data, size);
  moeplan::fuzz::accepts([&] { (void)moeplan::verify::read_safetensors(path); });
  moeplan::fuzz::accepts([&] { (void)moeplan::verify::load_initial_weights(path, tiny); });
  return 0;
}
