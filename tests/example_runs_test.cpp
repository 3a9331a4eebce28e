// The shipped example examples/runs.csv: it is what tests/support/example_runs.cpp writes, and
// the README tour's `law fit` and `law surface` lines run on it as they are written there.
#include "tests/support/example_runs.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "planner/runs_csv.h"
#include "tests/support/cli_runner.h"

namespace moeplan::testing {
namespace {

const std::string kExample = std::string(MOEPLAN_SOURCE_DIR) + "/examples/runs.csv";

TEST(ExampleRuns, ShippedFileIsTheGeneratorsOutput) {
  if (std::getenv("MOEPLAN_WRITE_EXAMPLES")) write_text_file(kExample, example_runs_csv());
  EXPECT_EQ(read_text_file(kExample), example_runs_csv())
      << "regenerate with MOEPLAN_WRITE_EXAMPLES=1 build/tests/example_runs_test";
  const auto table = planner::read_runs_table(kExample);
  EXPECT_EQ(table.runs.size(), 36u);
  EXPECT_EQ(planner::left_out_line(table), "left out 4 runs: 2 diverged, 2 failed");
}

// The README tour's line that starts with `$M law fit examples/runs.csv`, split into words,
// `$M` dropped, and the files it names put where the test can read and remove them.
std::vector<std::vector<std::string>> tour_commands(const std::string& starts_with) {
  std::istringstream readme(read_text_file(std::string(MOEPLAN_SOURCE_DIR) + "/README.md"));
  std::string line;
  while (std::getline(readme, line)) {
    if (line.rfind(starts_with, 0) != 0) continue;
    std::vector<std::vector<std::string>> commands(1);
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      if (word == "$M") continue;
      if (word == "&&") {
        commands.emplace_back();
        continue;
      }
      commands.back().push_back(word);
    }
    return commands;
  }
  ADD_FAILURE() << "README.md has no line starting with " << starts_with;
  return {};
}

std::vector<std::string> in_dir(std::vector<std::string> args, const TempDir& dir) {
  for (auto& a : args) {
    if (a == "examples/runs.csv")
      a = kExample;
    else if (a.size() > 5 && a.substr(a.size() - 5) == ".json")
      a = (dir / a).string();
  }
  return args;
}

TEST(ExampleRuns, TourLawFitAndPlanRunOnIt) {
  TempDir dir;
  const auto commands = tour_commands("$M law fit examples/runs.csv");
  ASSERT_EQ(commands.size(), 2u);
  const auto fit = run_moeplan(in_dir(commands[0], dir));
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  EXPECT_NE(fit.out.find("left out 4 runs: 2 diverged, 2 failed"), std::string::npos) << fit.out;
  EXPECT_NE(fit.out.find("bootstrap interval"), std::string::npos) << fit.out;
  const auto law = nlohmann::json::parse(read_text_file(dir / "mylaw.json"));
  EXPECT_EQ(law["fit"]["runs"], 36);
  const auto plan = run_moeplan(in_dir(commands[1], dir));
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
}

TEST(ExampleRuns, TourLawSurfaceRunsOnIt) {
  TempDir dir;
  const auto commands = tour_commands("$M law surface examples/runs.csv");
  ASSERT_EQ(commands.size(), 1u);
  const auto surface = run_moeplan(in_dir(commands[0], dir));
  ASSERT_EQ(surface.exit_code, 0) << surface.err;
  EXPECT_NE(surface.out.find("budget 1.00e+19"), std::string::npos) << surface.out;
  EXPECT_NE(surface.out.find("left out 4 runs: 2 diverged, 2 failed"), std::string::npos);
  // Its warnings (optima at the edge of the sizes run) are printed once, in the table.
  EXPECT_NE(surface.out.find("warnings:\n  - budget 1.00e+18"), std::string::npos) << surface.out;
  EXPECT_EQ(surface.err.find("warning"), std::string::npos) << surface.err;
}

}  // namespace
}  // namespace moeplan::testing
