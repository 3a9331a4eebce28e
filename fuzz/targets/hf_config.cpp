// Hugging Face config.json, as `moeplan count` reads it.
#include "planner/hf_config.h"

#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  moeplan::fuzz::accepts([&] {
    const auto model =
        moeplan::planner::read_hf_config(moeplan::fuzz::input_text(data, size), "fuzz/config.json");
    (void)moeplan::planner::published_active_convention(model.model_type);
  });
  return 0;
}
