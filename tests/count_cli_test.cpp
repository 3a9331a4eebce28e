// `moeplan count` as a user runs it: its JSON and table reports, the context option, and clear
// one-line errors (non-zero exit, no output file) for bad configs.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/cli_runner.h"

namespace moeplan {
namespace {

using testing::run_moeplan;
using testing::TempDir;
using testing::write_text_file;

std::string data(const std::string& name) {
  return std::string(MOEPLAN_TEST_DATA_DIR) + "/hf/" + name + ".json";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(CountCli, JsonReportHasCountsFlopsAndConventions) {
  const auto r =
      run_moeplan({"count", "--hf-config", data("mixtral-8x7b-v0.1"), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["total_params"].get<std::int64_t>(), 46702792704);
  EXPECT_EQ(j["active_params"].get<std::int64_t>(), 12879925248);
  EXPECT_EQ(j["embedding_params"].get<std::int64_t>(), 2 * 32000 * 4096);
  EXPECT_EQ(j["context"].get<std::int64_t>(), 32768);
  // 6·N_a + 6·n_ctx·(H·d_head + H·d_head) per layer.
  const double attention = 6.0 * 32768 * (4096 + 4096) * 32;
  EXPECT_DOUBLE_EQ(j["flops_per_token"].get<double>(), 6.0 * 12879925248.0 + attention);
  EXPECT_DOUBLE_EQ(j["flops"]["attention"].get<double>(), attention);
  EXPECT_EQ(j["breakdown"]["experts_total"].get<std::int64_t>(), 32LL * 8 * 3 * 4096 * 14336);
  EXPECT_EQ(j["layers"]["moe"].get<int>(), 32);
  ASSERT_TRUE(j["conventions"].is_array());
  EXPECT_TRUE(contains(j["conventions"].dump(), "published convention"));
  EXPECT_TRUE(contains(j["conventions"].dump(), "MTP"));
  EXPECT_EQ(j["active_params_convention"], "all-embeddings");
  EXPECT_EQ(j["active_params_all_embeddings"].get<std::int64_t>(), 12879925248);
}

// active_params is the number the family's authors state: gpt-oss and DeepSeek-V2/V3 leave out
// the input embedding (gpt-oss-120b: 5.13B active, OpenAI's model card), Granite every embedding.
TEST(CountCli, ActiveParamsFollowTheFamilysPublishedConvention) {
  struct Case {
    std::string file, convention;
    double stated_active;
  };
  for (const Case& c : {Case{"gpt-oss-120b", "without-input-embedding", 5.13e9},
                        Case{"deepseek-v3", "without-input-embedding", 37e9},
                        Case{"granite-3.1-3b-a800m", "non-embedding", 0.8e9},
                        Case{"qwen3-30b-a3b", "all-embeddings", 3.3e9}}) {
    const auto r = run_moeplan({"count", data(c.file), "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << c.file << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["active_params_convention"], c.convention) << c.file;
    const double active = j["active_params"].get<double>();
    EXPECT_NEAR(active / c.stated_active, 1.0, 0.02) << c.file;
    const double all = j["active_params_all_embeddings"].get<double>();
    EXPECT_GE(all, active) << c.file;
  }
}

TEST(CountCli, ContextOptionAndSlidingWindowsChangeTheAttentionTerm) {
  const auto r =
      run_moeplan({"count", data("gpt-oss-20b"), "--format", "json", "--context", "1024"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  // 12 full layers at 1024 tokens, 12 sliding layers at their 128-token window; 64 heads of 64.
  const double width = 64.0 * 64;
  const double attention = 6.0 * (12 * 1024 + 12 * 128) * (width + width);
  EXPECT_DOUBLE_EQ(j["flops"]["attention"].get<double>(), attention);
  EXPECT_EQ(j["context"].get<int>(), 1024);
}

TEST(CountCli, TableReportStatesConventionsAndExclusions) {
  const auto r = run_moeplan({"count", "--hf-config", data("deepseek-v3")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "total_params"));
  EXPECT_TRUE(contains(r.out, "671,026,419,200"));
  EXPECT_TRUE(contains(r.out, "conventions"));
  EXPECT_TRUE(contains(r.out, "excluded: mtp_params"));
  EXPECT_TRUE(contains(r.out, "num_nextn_predict_layers"));
}

// The table gives active_params once, under the family's convention, then the other two ways to
// count active parameters; the published one is not repeated under its own name.
TEST(CountCli, TableGivesEachActiveCountOnce) {
  const auto r = run_moeplan({"count", data("mixtral-8x7b-v0.1")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string active = "12,879,925,248";
  EXPECT_NE(r.out.find(active), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(active), r.out.rfind(active)) << r.out;
  EXPECT_TRUE(contains(r.out, "active_params (all-embeddings)"));
  EXPECT_TRUE(contains(r.out, "active_params_without_input_embedding"));
  EXPECT_TRUE(contains(r.out, "active_non_embedding_params"));
}

TEST(CountCli, WritesTheReportToAFile) {
  TempDir dir;
  const auto r = run_moeplan(
      {"count", data("olmoe-1b-7b-0924"), "--format", "json", "-o", (dir / "olmoe.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const auto j = nlohmann::json::parse(testing::read_text_file(dir / "olmoe.json"));
  EXPECT_EQ(j["model_type"], "olmoe");
}

struct BadConfig {
  std::string name;
  std::string text;
  std::vector<std::string> message_parts;
};

TEST(CountCli, BadConfigsGiveOneLineErrorsNamingTheProblem) {
  const std::vector<BadConfig> cases = {
      {"unknown",
       R"({"model_type": "mixtrl", "hidden_size": 8})",
       {"unknown model_type 'mixtrl'", "did you mean 'mixtral'", "supported:", "deepseek_v3"}},
      {"no_type", R"({"hidden_size": 8})", {"model_type", "supported:"}},
      {"missing",
       R"({"model_type": "mixtral", "hidden_size": 64, "num_hidden_layers": 2,
                      "num_attention_heads": 4, "vocab_size": 100, "intermediate_size": 32,
                      "num_experts_per_tok": 2})",
       {"mixtral", "missing key 'num_local_experts'"}},
      {"text",
       R"({"model_type": "llama", "hidden_size": "4096", "num_hidden_layers": 2,
                   "num_attention_heads": 4, "vocab_size": 100, "intermediate_size": 32})",
       {"llama", "'hidden_size'", "positive whole number", "\"4096\""}},
      {"negative",
       R"({"model_type": "qwen3_moe", "hidden_size": 64, "num_hidden_layers": -2,
                       "num_attention_heads": 4, "vocab_size": 100})",
       {"qwen3_moe", "'num_hidden_layers'", "-2"}},
      {"fraction", R"({"model_type": "olmoe", "hidden_size": 64.5})", {"'hidden_size'", "64.5"}},
      {"nested",
       R"({"model_type": "dbrx", "d_model": 64, "n_layers": 2, "n_heads": 4,
                     "vocab_size": 100, "attn_config": {"kv_n_heads": 2}, "ffn_config": {}})",
       {"dbrx", "'ffn_config.moe_num_experts'"}},
      {"mla",
       R"({"model_type": "deepseek_v3", "hidden_size": 64, "num_hidden_layers": 2,
                  "num_attention_heads": 4, "vocab_size": 100, "kv_lora_rank": 16})",
       {"deepseek_v3", "'q_lora_rank'"}},
      {"topk",
       R"({"model_type": "mixtral", "hidden_size": 64, "num_hidden_layers": 2,
                   "num_attention_heads": 4, "vocab_size": 100, "intermediate_size": 32,
                   "num_local_experts": 2, "num_experts_per_tok": 3})",
       {"active experts", "3"}},
      {"json", R"({"model_type": "mixtral", )", {"not valid JSON"}},
      {"array", R"([1, 2])", {"JSON object"}},
  };
  TempDir dir;
  for (const BadConfig& c : cases) {
    SCOPED_TRACE(c.name);
    const auto config = dir / (c.name + ".json");
    write_text_file(config, c.text);
    const auto out = dir / (c.name + ".report");
    const auto r = run_moeplan({"count", config.string(), "-o", out.string()});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_FALSE(std::filesystem::exists(out));
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;  // one line
    for (const std::string& part : c.message_parts)
      EXPECT_TRUE(contains(r.err, part)) << "missing '" << part << "' in: " << r.err;
  }
}

TEST(CountCli, UsageErrors) {
  auto r = run_moeplan({"count"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.err, "--hf-config"));
  r = run_moeplan({"count", data("mixtral-8x7b-v0.1"), "--format", "yaml"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.err, "yaml"));
  r = run_moeplan({"count", "/nonexistent/config.json"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.err, "/nonexistent/config.json"));
  r = run_moeplan({"count", data("mixtral-8x7b-v0.1"), "--context", "0"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.err, "--context"));
  r = run_moeplan({"count", data("mixtral-8x7b-v0.1"), "-o", "/nonexistent/dir/out.txt"});
  EXPECT_NE(r.exit_code, 0);
  r = run_moeplan({"count", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "--hf-config"));
  EXPECT_TRUE(contains(r.out, "gpt_oss"));
}

}  // namespace
}  // namespace moeplan
