// The CLI's numbers: FLOP budgets, counts with K/M/B/T, sizes with units, positive integers.
#include "util/units.h"

#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = moeplan::fuzz::input_text(data, size);
  using moeplan::fuzz::accepts;
  accepts([&] { (void)moeplan::format_sci(moeplan::parse_number(text, "--budget")); });
  accepts([&] { (void)moeplan::format_sci(moeplan::parse_positive(text, "--budget")); });
  accepts([&] { (void)moeplan::format_count(moeplan::parse_count(text, "--params")); });
  accepts([&] { (void)moeplan::format_bytes(moeplan::parse_bytes(text, "--memory")); });
  accepts([&] { (void)moeplan::parse_positive_int(text, "--steps"); });
  return 0;
}
