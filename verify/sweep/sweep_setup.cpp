#include "verify/sweep/sweep_setup.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "law/flops.h"
#include "planner/recipe.h"
#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"
#include "verify/arch_json.h"
#include "verify/shard.h"

namespace moeplan::verify {
namespace {

// A run checkpoints about this many times, so a killed sweep loses at most ~10 % of a run.
constexpr std::int64_t kCheckpointsPerRun = 10;

template <typename T>
T get_field(const nlohmann::json& j, const char* key, const std::string& origin) {
  if (!j.contains(key)) fail(origin, ": sweep record has no \"", key, "\"");
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    fail(origin, ": sweep record's \"", key, "\" has the wrong type: ", j.at(key).dump());
  }
}

// Streams a file through the hash without holding it in memory (shards can be gigabytes).
std::uint64_t hash_file(const std::filesystem::path& path, std::uint64_t state) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read '", path.string(), "'");
  std::string buffer(1 << 20, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    state = fnv1a64(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())), state);
  }
  return state;
}

}  // namespace

nlohmann::json SweepSetup::to_json() const {
  return {{"format", kSweepSetupFormat},
          {"data_dir", data_dir.string()},
          {"data_fingerprint", data_fingerprint},
          {"vocab_size", vocab_size},
          {"context", context},
          {"budgets_flops", budgets_flops},
          {"experts", experts},
          {"top_k", top_k},
          {"granularity", granularity},
          {"sizes", sizes},
          {"prior_law", prior_law},
          {"lr_scale", lr_scale},
          {"min_steps", min_steps},
          {"divergence_factor", divergence_factor},
          {"val_tokens", val_tokens},
          {"device", device},
          {"seed", seed},
          {"repeat_seeds", repeat_seeds},
          {"moeplan_version", moeplan_version}};
}

SweepSetup SweepSetup::from_json(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object() || !j.contains("format") || j["format"] != kSweepSetupFormat)
    fail(origin, " is not a moeplan sweep record (\"format\": \"", kSweepSetupFormat, "\")");
  SweepSetup s;
  s.data_dir = get_field<std::string>(j, "data_dir", origin);
  s.data_fingerprint = get_field<std::string>(j, "data_fingerprint", origin);
  s.vocab_size = get_field<std::int64_t>(j, "vocab_size", origin);
  s.context = get_field<std::int64_t>(j, "context", origin);
  s.budgets_flops = get_field<std::vector<double>>(j, "budgets_flops", origin);
  s.experts = get_field<std::vector<std::int64_t>>(j, "experts", origin);
  s.top_k = get_field<std::int64_t>(j, "top_k", origin);
  s.granularity = get_field<std::int64_t>(j, "granularity", origin);
  s.sizes = get_field<int>(j, "sizes", origin);
  if (!j.contains("prior_law")) fail(origin, ": sweep record has no \"prior_law\"");
  s.prior_law = j["prior_law"];
  s.lr_scale = get_field<double>(j, "lr_scale", origin);
  s.min_steps = get_field<std::int64_t>(j, "min_steps", origin);
  s.divergence_factor = get_field<double>(j, "divergence_factor", origin);
  s.val_tokens = get_field<std::int64_t>(j, "val_tokens", origin);
  s.device = get_field<std::string>(j, "device", origin);
  s.seed = get_field<std::uint64_t>(j, "seed", origin);
  s.repeat_seeds = get_field<int>(j, "repeat_seeds", origin);
  s.moeplan_version = get_field<std::string>(j, "moeplan_version", origin);
  return s;
}

nlohmann::json SweepSetup::identity() const {
  nlohmann::json j = to_json();
  // Where the data lies, which device trains and which build wrote the record do not change the
  // experiment; the data's fingerprint does.
  for (const char* key : {"data_dir", "device", "moeplan_version"}) j.erase(key);
  return j;
}

SweepSetup read_sweep_setup(const std::filesystem::path& sweep_dir) {
  const auto path = sweep_dir / kSweepSetupFileName;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    fail(sweep_dir.string(), " is not a sweep directory (no ", kSweepSetupFileName, ")");
  return SweepSetup::from_json(read_json_file(path), path.string());
}

void write_sweep_setup(const std::filesystem::path& sweep_dir, const SweepSetup& setup) {
  write_file_atomic(sweep_dir / kSweepSetupFileName, setup.to_json().dump(2) + "\n");
}

std::string data_fingerprint(const std::filesystem::path& data_dir) {
  std::uint64_t state = kFnvOffsetBasis;
  for (const char* split : {"train", "val"}) {
    for (const ShardInfo& shard : find_shards(data_dir, split)) {
      const auto size = std::filesystem::file_size(shard.path);
      state = fnv1a64(shard.path.filename().string() + ":" + std::to_string(size) + ";", state);
      state = hash_file(shard.path, state);
    }
  }
  std::error_code ec;
  const auto manifest = data_dir / "manifest.json";
  if (std::filesystem::exists(manifest, ec)) state = hash_file(manifest, state);
  return hex64(state);
}

TrainConfig run_train_config(const SweepSetup& setup, const law::MoeArchitecture& arch,
                             double budget_flops, std::uint64_t seed,
                             const std::filesystem::path& run_dir) {
  TrainConfig config;
  config.arch = arch;
  config.arch.vocab_size = setup.vocab_size;
  config.arch.context = setup.context;
  const double active = static_cast<double>(law::count_params(config.arch).active);
  // D = C / 6·N_a: the FLOPs the law was fitted with (paper §5, footnote 3).
  const double tokens = budget_flops / law::six_na_flops_per_token(active);
  const planner::Recipe recipe =
      planner::make_recipe(budget_flops, tokens, setup.context, setup.min_steps);
  config.tokens = std::max<std::int64_t>(1, std::llround(tokens));
  config.batch_sequences = recipe.deepseek.batch_sequences;
  config.peak_lr = recipe.deepseek_peak_lr * setup.lr_scale;
  config.warmup_fraction = recipe.warmup_fraction;
  config.final_lr_fraction = recipe.final_lr_fraction;
  config.data_dir = setup.data_dir;
  config.val_tokens = setup.val_tokens;
  config.device = setup.device;
  config.seed = seed;
  // MERGE(i11): config.divergence_factor = setup.divergence_factor;
  config.checkpoint_every = std::max<std::int64_t>(1, config.total_steps() / kCheckpointsPerRun);
  config.out_dir = run_dir;
  config.log_path = run_dir / "log.jsonl";
  config.summary_path = run_dir / "summary.json";
  return config;
}

}  // namespace moeplan::verify
