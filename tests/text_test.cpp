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

TEST(Text, QuotedExcerptEscapesAndCutsLongInput) {
  EXPECT_EQ(quoted_excerpt("abc"), "'abc'");
  EXPECT_EQ(quoted_excerpt("a'b\n\x01"), "'a\\'b\\n\\x01'");
  const std::string huge(20 * 1024 * 1024, 'x');
  const std::string q = quoted_excerpt(huge);
  EXPECT_EQ(q, "'" + std::string(kExcerptChars, 'x') + "\u2026' (20971520 bytes)");
  // Cut at a character boundary: "é" is two bytes; 5 bytes of "ééé" keep two characters.
  EXPECT_EQ(quoted_excerpt("\u00e9\u00e9\u00e9", 5), "'\u00e9\u00e9\u2026' (6 bytes)");
  EXPECT_EQ(excerpt("abcdef", 3), "abc\u2026 (6 bytes)");
  EXPECT_EQ(cut_long_inputs("bad ('" + huge + "') here", {huge}),
            "bad ('" + excerpt(huge) + "') here");
}

TEST(Units, ErrorsQuoteAnExcerptOfHugeInput) {
  const std::string huge(1 << 20, '9');
  try {
    parse_bytes(huge + "QB", "--memory");
    FAIL();
  } catch (const Error& e) {
    EXPECT_LT(std::string(e.what()).size(), 300u);
    EXPECT_NE(std::string(e.what()).find("(1048578 bytes)"), std::string::npos) << e.what();
  }
  // An unknown word far from every candidate is answered without a quadratic table.
  EXPECT_NE(unknown_name_message("command", huge, {"plan", "count"}).find("(1048576 bytes)"),
            std::string::npos);
}

}  // namespace
}  // namespace moeplan
