#include <gtest/gtest.h>

#include "util/text.h"
#include "util/units.h"
#include "util/error.h"

namespace moeplan {
namespace {

TEST(Text, EditDistanceCountsTranspositionsOnce) {
  EXPECT_EQ(edit_distance("show", "show"), 0);
  EXPECT_EQ(edit_distance("shwo", "show"), 1);
  EXPECT_EQ(edit_distance("plam", "plan"), 1);
  EXPECT_EQ(edit_distance("", "abc"), 3);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3);
}

TEST(Text, ClosestMatchOnlyWhenClose) {
  EXPECT_EQ(closest_match("--budgit", {"--budget", "--memory"}), "--budget");
  EXPECT_EQ(closest_match("xyz", {"plan", "count"}), "");
}

TEST(Units, ParsesSizesCountsAndRejectsJunk) {
  EXPECT_DOUBLE_EQ(parse_bytes("80GiB", "--gpu-memory"), 80.0 * 1024 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(parse_bytes("640GB", "--memory"), 640e9);
  EXPECT_DOUBLE_EQ(parse_count("7B", "--params"), 7e9);
  EXPECT_DOUBLE_EQ(parse_count("2e10", "--max-params"), 2e10);
  EXPECT_DOUBLE_EQ(parse_positive("1e21", "--budget"), 1e21);
  for (const char* bad : {"", "nan", "inf", "-1e21", "0", "1e21x", "abc", "0x10"})
    EXPECT_THROW(parse_positive(bad, "--budget"), Error) << bad;
  EXPECT_THROW(parse_bytes("80GiBs", "--memory"), Error);
  EXPECT_THROW(parse_positive_int("2.5", "--layers"), Error);
}

}  // namespace
}  // namespace moeplan
