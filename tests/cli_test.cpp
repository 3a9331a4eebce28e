// The command-line surface as a user meets it: help, version, did-you-mean, man pages.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli/commands.h"
#include "tests/support/cli_runner.h"

namespace moeplan {
namespace {

using testing::run_moeplan;

TEST(Cli, NoCommandPrintsUsageAndFails) {
  const auto r = run_moeplan({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("usage: moeplan COMMAND"), std::string::npos);
}

TEST(Cli, VersionAndHelp) {
  EXPECT_EQ(run_moeplan({"--version"}).exit_code, 0);
  const auto r = run_moeplan({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const auto& c : cli::commands()) EXPECT_NE(r.out.find(c.name), std::string::npos) << c.name;
}

TEST(Cli, UnknownCommandSuggestsTheClosest) {
  const auto r = run_moeplan({"plam"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err, "moeplan: error: unknown command 'plam'; did you mean 'plan'?\n");
  const auto law = run_moeplan({"law", "shwo"});
  EXPECT_NE(law.exit_code, 0);
  EXPECT_NE(law.err.find("did you mean 'show'"), std::string::npos);
}

// Every leaf command answers --help with its usage and has a man page.
TEST(Cli, EveryCommandHasHelpAndAManPage) {
  struct Leaf {
    std::vector<std::string> words;
    std::string man;
  };
  std::vector<Leaf> leaves;
  for (const auto& c : cli::commands()) {
    if (c.name == "law") {
      for (const auto& s : cli::law_commands())
        leaves.push_back({{"law", s.name},
                          (s.name == "fit" || s.name == "surface") ? "moeplan-law-" + s.name
                                                                   : "moeplan-law"});
    } else if (c.name == "data") {
      for (const auto& s : cli::data_commands()) leaves.push_back({{"data", s.name}, "moeplan-data"});
    } else {
      leaves.push_back({{c.name}, "moeplan-" + c.name});
    }
  }
  for (auto& leaf : leaves) {
    auto args = leaf.words;
    args.push_back("--help");
    const auto r = run_moeplan(args);
    EXPECT_EQ(r.exit_code, 0) << leaf.man << ": " << r.err;
    EXPECT_NE(r.out.find("usage: moeplan"), std::string::npos) << leaf.man;
    EXPECT_TRUE(std::filesystem::exists(std::string(MOEPLAN_SOURCE_DIR) + "/man/" + leaf.man + ".1"))
        << leaf.man;
  }
  EXPECT_TRUE(std::filesystem::exists(std::string(MOEPLAN_SOURCE_DIR) + "/man/moeplan.1"));
}

}  // namespace
}  // namespace moeplan
