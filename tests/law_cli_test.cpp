// `moeplan law show` and `moeplan law eval` as a user runs them.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/cli_runner.h"

namespace moeplan {
namespace {

using testing::run_moeplan;
using testing::TempDir;

TEST(LawShow, TableAndJson) {
  const auto t = run_moeplan({"law", "show", "abnar2025"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  for (const char* s : {"16612.5", "0.5962", "5455.67", "-0.1666", "RedPajama", "GPT-NeoX",
                        "preset", "[3.00e+19, 1.00e+21]"})
    EXPECT_NE(t.out.find(s), std::string::npos) << s;
  const auto j = run_moeplan({"law", "show", "hoffmann2022", "--format", "json"});
  ASSERT_EQ(j.exit_code, 0);
  const auto json = nlohmann::json::parse(j.out);
  EXPECT_EQ(json["form"], "chinchilla");
  EXPECT_DOUBLE_EQ(json["coefficients"]["a"].get<double>(), 406.4);
  EXPECT_TRUE(json.contains("source"));
}

TEST(LawShow, FromFile) {
  TempDir tmp;
  const auto out = tmp / "law.json";
  ASSERT_EQ(
      run_moeplan({"law", "show", "epoch2024", "--format", "json", "-o", out.string()}).exit_code,
      0);
  const auto r = run_moeplan({"law", "show", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("482.01"), std::string::npos);
}

TEST(LawEval, MatchesEq6TermByTerm) {
  const auto r = run_moeplan({"law", "eval", "--law", "abnar2025", "--params", "2e9", "--tokens",
                              "4e10", "--sparsity", "0.75", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const double N = 2e9, D = 4e10, S = 0.75;
  const double params = 16612.50 / std::pow(N, 0.5962), data = 5455.67 / std::pow(D, 0.3954),
               sparsity = 0.4598 / std::pow(1 - S, -0.1666),
               interaction = 17.26 / (std::pow(1 - S, 0.1603) * std::pow(N, 0.1595));
  EXPECT_NEAR(j["terms"]["params"].get<double>(), params, 1e-12);
  EXPECT_NEAR(j["terms"]["data"].get<double>(), data, 1e-12);
  EXPECT_NEAR(j["terms"]["sparsity"].get<double>(), sparsity, 1e-12);
  EXPECT_NEAR(j["terms"]["interaction"].get<double>(), interaction, 1e-12);
  EXPECT_NEAR(j["predicted_loss"].get<double>(), params + data + sparsity + interaction + 0.94,
              1e-12);
  EXPECT_TRUE(j["domain_warnings"].empty());
  const auto t =
      run_moeplan({"law", "eval", "--params", "2e9", "--tokens", "4e10", "--sparsity", "0.75"});
  EXPECT_NE(t.out.find("2.4109"), std::string::npos) << t.out;
}

TEST(LawEval, DomainWarningsTermByTerm) {
  const auto r = run_moeplan({"law", "eval", "--params", "1e11", "--tokens", "1e12", "--sparsity",
                              "0.99", "--budget", "1e23", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0);
  const auto j = nlohmann::json::parse(r.out);
  std::set<std::string> q;
  for (const auto& w : j["domain_warnings"]) q.insert(w["quantity"].get<std::string>());
  EXPECT_EQ(q, (std::set<std::string>{"budget_flops", "total_params", "sparsity"}));
}

TEST(LawCliErrors, OneLineErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"law", "show", "abnar2052"},
           {"law", "show"},
           {"law", "eval", "--params", "2e9"},
           {"law", "eval", "--params", "-2e9", "--tokens", "1e10"},
           {"law", "eval", "--params", "2e9", "--tokens", "1e10", "--sparsity", "1.5"},
           {"law", "eval", "--law", "nope", "--params", "2e9", "--tokens", "1e10"}}) {
    const auto r = run_moeplan(args);
    EXPECT_NE(r.exit_code, 0) << args[1];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  TempDir tmp;
  const auto law = tmp / "bad.json";
  testing::write_text_file(law, "{\"form\": \"abnar2025\"}");
  const auto r = run_moeplan({"law", "show", law.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("coefficients"), std::string::npos);
}

TEST(LawCli, Help) {
  for (const char* sub : {"show", "eval"}) {
    const auto r = run_moeplan({"law", sub, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("usage: moeplan law"), std::string::npos);
  }
}

}  // namespace
}  // namespace moeplan
