// Plan export: the Hugging Face config (qwen3_moe) reads back through `count` to exactly the
// plan's counts, and the Megatron-LM arguments are a bash array with the architecture's values.
#include "planner/export.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "law/architecture.h"
#include "law/model_accounting.h"
#include "planner/hf_config.h"
#include "support/cli_runner.h"

namespace moeplan::planner {
namespace {

std::vector<law::MoeArchitecture> plans() {
  std::vector<law::MoeArchitecture> out = {
      law::make_paper_architecture(256, 4, 4, 8, 1, 1, 8192, 512),
      law::make_paper_architecture(1024, 12, 16, 64, 8, 4, 50432, 2048),
      law::make_paper_architecture(2048, 24, 16, 32, 2, 2, 50432, 4096),
      law::make_paper_architecture(768, 6, 12, 1, 1, 1, 32000, 1024),
  };
  law::MoeArchitecture tied = law::make_paper_architecture(512, 8, 8, 16, 2, 1, 50432, 2048);
  tied.tied_embeddings = true;
  out.push_back(tied);
  return out;
}

TEST(ExportHfConfig, RoundTripGivesThePlansExactCounts) {
  for (const law::MoeArchitecture& arch : plans()) {
    SCOPED_TRACE(law::describe(arch));
    const HfModel back = read_hf_config(export_hf_config(arch), "export");
    const law::ModelCounts got = law::count_model(back.model);
    const law::ParamCounts want = law::count_params(arch);
    EXPECT_EQ(got.total, want.total);
    EXPECT_EQ(got.active, want.active);
    EXPECT_EQ(got.embedding(), want.embedding);
    EXPECT_EQ(got.norms, want.norms);
    ASSERT_TRUE(back.context.has_value());
    EXPECT_EQ(*back.context, arch.context);
    EXPECT_DOUBLE_EQ(
        law::model_flops_per_token(back.model, arch.context),
        law::model_flops_per_token(law::describe_paper_architecture(arch), arch.context));
    EXPECT_TRUE(back.notes.empty());  // nothing left to a default
  }
}

TEST(ExportHfConfig, StatesTheTrainedModel) {
  const law::MoeArchitecture arch =
      law::make_paper_architecture(1024, 12, 16, 64, 8, 4, 50432, 2048);
  const auto j = nlohmann::json::parse(export_hf_config(arch));
  EXPECT_EQ(j["model_type"], "qwen3_moe");
  EXPECT_EQ(j["architectures"], nlohmann::json::array({"Qwen3MoeForCausalLM"}));
  EXPECT_EQ(j["hidden_size"], 1024);
  EXPECT_EQ(j["num_hidden_layers"], 12);
  EXPECT_EQ(j["num_attention_heads"], 16);
  EXPECT_EQ(j["num_key_value_heads"], 16);
  EXPECT_EQ(j["head_dim"], 64);
  EXPECT_EQ(j["moe_intermediate_size"], 1024);  // 4·d/G
  EXPECT_EQ(j["num_experts"], 64);
  EXPECT_EQ(j["num_experts_per_tok"], 8);
  EXPECT_EQ(j["norm_topk_prob"], false);
  EXPECT_EQ(j["decoder_sparse_step"], 1);
  EXPECT_TRUE(j["mlp_only_layers"].empty());
  EXPECT_DOUBLE_EQ(j["router_aux_loss_coef"].get<double>(), 0.02);
  EXPECT_DOUBLE_EQ(j["rope_theta"].get<double>(), 10000.0);
  EXPECT_EQ(j["attention_bias"], false);
  EXPECT_EQ(j["tie_word_embeddings"], false);
  EXPECT_EQ(j["max_position_embeddings"], 2048);
  EXPECT_EQ(j["vocab_size"], 50432);
  EXPECT_EQ(j["torch_dtype"], "bfloat16");
}

TEST(ExportHfConfig, CountCommandReadsTheExportBack) {
  const law::MoeArchitecture arch = law::make_paper_architecture(512, 8, 8, 16, 2, 1, 50432, 2048);
  testing::TempDir dir;
  testing::write_text_file(dir / "config.json", export_hf_config(arch));
  const auto r = testing::run_moeplan(
      {"count", "--hf-config", (dir / "config.json").string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const law::ParamCounts want = law::count_params(arch);
  EXPECT_EQ(j["total_params"].get<std::int64_t>(), want.total);
  EXPECT_EQ(j["active_params"].get<std::int64_t>(), want.active);
  EXPECT_EQ(j["embedding_params"].get<std::int64_t>(), want.embedding);
}

// The arguments as bash sees them after `source`.
std::vector<std::string> bash_words(const std::string& script) {
  testing::TempDir dir;
  testing::write_text_file(dir / "args.sh", script);
  const std::string command = "bash -c 'source \"" + (dir / "args.sh").string() +
                              "\" && printf \"%s\\n\" \"${MOEPLAN_MEGATRON_ARGS[@]}\"'";
  std::vector<std::string> words;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return words;
  std::array<char, 512> buffer{};
  std::string all;
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) all += buffer.data();
  pclose(pipe);
  std::istringstream lines(all);
  for (std::string line; std::getline(lines, line);) words.push_back(line);
  return words;
}

// flag → value ("" for a switch).
std::map<std::string, std::string> flags(const std::vector<std::string>& words) {
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i].rfind("--", 0) != 0) continue;
    const bool has_value = i + 1 < words.size() && words[i + 1].rfind("--", 0) != 0;
    out[words[i]] = has_value ? words[i + 1] : "";
  }
  return out;
}

TEST(ExportMegatron, ArchitectureArgumentsAreABashArray) {
  const law::MoeArchitecture arch =
      law::make_paper_architecture(1024, 12, 16, 64, 8, 4, 50432, 2048);
  const auto f = flags(bash_words(export_megatron_args(arch, ExportRecipe{})));
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f.at("--num-layers"), "12");
  EXPECT_EQ(f.at("--hidden-size"), "1024");
  EXPECT_EQ(f.at("--num-attention-heads"), "16");
  EXPECT_EQ(f.at("--kv-channels"), "64");
  EXPECT_EQ(f.at("--ffn-hidden-size"), "1024");
  EXPECT_EQ(f.at("--moe-ffn-hidden-size"), "1024");
  EXPECT_EQ(f.at("--num-experts"), "64");
  EXPECT_EQ(f.at("--moe-router-topk"), "8");
  EXPECT_EQ(f.at("--moe-aux-loss-coeff"), "0.02");
  EXPECT_EQ(f.at("--moe-z-loss-coeff"), "0.001");
  EXPECT_EQ(f.at("--moe-router-load-balancing-type"), "aux_loss");
  EXPECT_EQ(f.at("--moe-token-dispatcher-type"), "alltoall");
  EXPECT_EQ(f.at("--seq-length"), "2048");
  EXPECT_EQ(f.at("--max-position-embeddings"), "2048");
  EXPECT_EQ(f.at("--normalization"), "RMSNorm");
  EXPECT_EQ(f.at("--position-embedding-type"), "rope");
  EXPECT_EQ(f.at("--rotary-base"), "10000");
  for (const char* flag : {"--swiglu", "--qk-layernorm", "--disable-bias-linear",
                           "--untie-embeddings-and-output-weights", "--moe-grouped-gemm",
                           "--moe-router-pre-softmax", "--bf16"})
    EXPECT_EQ(f.count(flag), 1u) << flag;
  EXPECT_EQ(f.count("--lr"), 0u);  // no recipe, no optimiser arguments
  EXPECT_EQ(f.count("--train-iters"), 0u);
}

TEST(ExportMegatron, RecipeArgumentsWhenGiven) {
  law::MoeArchitecture arch = law::make_paper_architecture(512, 8, 8, 16, 2, 1, 50432, 2048);
  arch.tied_embeddings = true;
  ExportRecipe recipe;
  recipe.peak_lr = 2e-3;
  recipe.min_lr = 2e-4;
  recipe.global_batch_sequences = 1024;
  recipe.micro_batch_sequences = 8;
  recipe.train_steps = 20000;
  recipe.warmup_steps = 1000;
  const auto f = flags(bash_words(export_megatron_args(arch, recipe)));
  EXPECT_EQ(f.at("--lr"), "0.002");
  EXPECT_EQ(f.at("--min-lr"), "0.0002");
  EXPECT_EQ(f.at("--lr-decay-style"), "cosine");
  EXPECT_EQ(f.at("--lr-warmup-iters"), "1000");
  EXPECT_EQ(f.at("--train-iters"), "20000");
  EXPECT_EQ(f.at("--global-batch-size"), "1024");
  EXPECT_EQ(f.at("--micro-batch-size"), "8");
  EXPECT_EQ(f.at("--adam-beta1"), "0.9");
  EXPECT_EQ(f.at("--adam-beta2"), "0.95");
  EXPECT_EQ(f.at("--adam-eps"), "1e-8");
  EXPECT_EQ(f.at("--weight-decay"), "1e-5");
  EXPECT_EQ(f.at("--clip-grad"), "1.0");
  EXPECT_EQ(f.count("--untie-embeddings-and-output-weights"), 0u);  // tied plan
}

}  // namespace
}  // namespace moeplan::planner

namespace moeplan::planner {
namespace {

// `plan --export` as a user runs it: the exported config reads back to the plan's exact counts.
TEST(PlanExportCli, HfConfigRoundTripsThroughCount) {
  testing::TempDir dir;
  const auto plan_json = testing::run_moeplan(
      {"plan", "--budget", "1e20", "--gpus", "8", "--gpu-memory", "80GiB", "--format", "json"});
  ASSERT_EQ(plan_json.exit_code, 0) << plan_json.err;
  const auto plan = nlohmann::json::parse(plan_json.out);
  const auto config = (dir / "config.json").string();
  const auto exported = testing::run_moeplan({"plan", "--budget", "1e20", "--gpus", "8",
                                              "--gpu-memory", "80GiB", "--export", "hf-config",
                                              "-o", config});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const auto counted = testing::run_moeplan({"count", config, "--format", "json"});
  ASSERT_EQ(counted.exit_code, 0) << counted.err;
  const auto counts = nlohmann::json::parse(counted.out);
  EXPECT_EQ(counts["total_params"], plan["total_params"]);
  EXPECT_EQ(counts["active_params"], plan["active_params"]);
}

TEST(PlanExportCli, MegatronArgumentsCarryTheRecipe) {
  const auto r = testing::run_moeplan({"plan", "--budget", "1e20", "--gpus", "8", "--gpu-memory",
                                       "80GiB", "--export", "megatron"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* flag : {"--num-experts", "--moe-router-topk", "--train-iters", "--lr",
                           "--global-batch-size", "--lr-warmup-iters"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

TEST(PlanExportCli, UnknownExportFormatSuggests) {
  testing::TempDir dir;
  const auto out = (dir / "x.json").string();
  const auto r = testing::run_moeplan(
      {"plan", "--budget", "1e20", "--max-params", "1e9", "--export", "hf-conifg", "-o", out});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("did you mean 'hf-config'"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace moeplan::planner
