// ARCH.json and plan JSON, as `train --arch` and `train --plan` read them (from a file).
#include "planner/architecture_json.h"

#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static moeplan::fuzz::InputFile file(".json");
  const auto& path = file.write(data, size);
  moeplan::fuzz::accepts([&] {
    const auto architecture = moeplan::planner::read_architecture_file(path);
    (void)moeplan::planner::architecture_to_json(architecture).dump();
  });
  return 0;
}
