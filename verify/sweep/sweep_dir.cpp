#include "verify/sweep/sweep_dir.h"

#include "util/error.h"
#include "verify/shard.h"
#include "verify/sweep/run_list.h"

namespace moeplan::verify {
namespace {

bool has_setup(const std::filesystem::path& sweep_dir) {
  std::error_code ec;
  return std::filesystem::exists(sweep_dir / kSweepSetupFileName, ec);
}

// The top-level keys in which two identities differ, for the refusal's message.
std::string differing_keys(const nlohmann::json& a, const nlohmann::json& b) {
  std::string keys;
  for (const auto& [key, value] : a.items())
    if (!b.contains(key) || b[key] != value) keys += (keys.empty() ? "" : ", ") + key;
  return keys;
}

}  // namespace

void check_sweep_data(const std::filesystem::path& data_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec))
    fail("--data ", data_dir.string(), " is not a directory");
  if (find_shards(data_dir, "train").empty())
    fail("no training shards (*_train_*.bin) in ", data_dir.string(),
         "; make them with 'moeplan data prepare'");
  if (find_shards(data_dir, "val").empty())
    fail("no validation shards (*_val_*.bin) in ", data_dir.string());
}

std::vector<SweepRun> check_sweep_dir(const std::filesystem::path& sweep_dir,
                                      const SweepSetup& requested) {
  std::error_code ec;
  if (std::filesystem::exists(sweep_dir, ec) && !std::filesystem::is_directory(sweep_dir, ec))
    fail("--out ", sweep_dir.string(), " exists and is not a directory");
  if (!has_setup(sweep_dir)) return design_grid(requested);
  const SweepSetup recorded = read_sweep_setup(sweep_dir);
  if (recorded.data_fingerprint != requested.data_fingerprint)
    fail(sweep_dir.string(), " was swept on other data (fingerprint ", recorded.data_fingerprint,
         ", this data ", requested.data_fingerprint, "); use another --out");
  if (recorded.identity() != requested.identity())
    fail(sweep_dir.string(), " records another sweep configuration (differs in ",
         differing_keys(requested.identity(), recorded.identity()), "); use another --out");
  std::vector<SweepRun> runs = read_run_list(sweep_dir);
  return runs.empty() ? design_grid(requested) : runs;
}

std::vector<SweepRun> open_sweep_dir(const std::filesystem::path& sweep_dir,
                                     const SweepSetup& requested) {
  std::vector<SweepRun> runs = check_sweep_dir(sweep_dir, requested);
  std::filesystem::create_directories(sweep_dir);
  write_sweep_setup(sweep_dir, requested);
  if (read_run_list(sweep_dir).empty()) runs = append_runs(sweep_dir, runs);
  return runs;
}

}  // namespace moeplan::verify
