// Law files: presets/laws/*.json and what `law fit` writes, read by every --law FILE.
#include "law/law_json.h"

#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  moeplan::fuzz::accepts([&] {
    const auto law =
        moeplan::law::law_from_json_text(moeplan::fuzz::input_text(data, size), "fuzz.json");
    (void)moeplan::law::law_to_json(law).dump();
  });
  return 0;
}
