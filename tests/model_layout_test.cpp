#include <gtest/gtest.h>

#include "law/architecture.h"
#include "verify/model_layout.h"

namespace moeplan::verify {
namespace {

// The trainer's parameters are exactly what the planner counts (App. C + norms).
TEST(ModelLayout, ParameterCountMatchesTheLawAccounting) {
  for (auto arch : {law::make_paper_architecture(256, 4, 4, 8, 1, 1, 8192, 512),
                    law::make_paper_architecture(512, 8, 8, 16, 2, 2, 32768, 1024),
                    law::make_paper_architecture(64, 1, 1, 17, 3, 4, 127, 17)}) {
    EXPECT_EQ(parameter_count(parameter_layout(arch)), law::count_params(arch).total)
        << law::describe(arch);
  }
}

TEST(ModelLayout, NamesFollowTheTorchReference) {
  const auto layout = parameter_layout(law::make_paper_architecture(256, 2, 4, 8, 1, 1, 100, 16));
  EXPECT_EQ(layout.front().name, "emb.weight");
  EXPECT_EQ(layout[2].name, "blocks.0.qkv.weight");
  EXPECT_EQ(layout[2].shape, (std::vector<std::int64_t>{768, 256}));
  EXPECT_EQ(layout.back().name, "out.weight");
  EXPECT_DOUBLE_EQ(layout[3].init_std(2), 0.02 / 2.0);  // o.weight: 0.02/sqrt(2L)
}

}  // namespace
}  // namespace moeplan::verify
