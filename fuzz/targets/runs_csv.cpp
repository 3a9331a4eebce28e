// The runs CSV of `law fit` / `law surface`, including the sweep ledger (status column).
#include "planner/runs_csv.h"

#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = moeplan::fuzz::input_text(data, size);
  for (const bool sparsity_optional : {false, true}) {
    moeplan::fuzz::accepts([&] {
      const auto table = moeplan::planner::parse_runs_table(text, "fuzz.csv", sparsity_optional);
      (void)moeplan::planner::left_out_line(table);
      (void)moeplan::planner::left_out_json(table).dump();
    });
  }
  return 0;
}
