#include "verify/checkpoint.h"

#include <charconv>
#include <map>
#include <nlohmann/json.hpp>

#include "planner/architecture_json.h"
#include "util/error.h"
#include "util/json_text.h"
#include "verify/model_layout.h"
#include "verify/safetensors.h"

namespace moeplan::verify {
namespace {

std::int64_t metadata_int(const std::map<std::string, std::string>& md, const std::string& key,
                          const std::string& where) {
  const auto it = md.find(key);
  if (it == md.end()) fail(where, " is not a moeplan checkpoint: its metadata lacks '", key, "'");
  try {
    std::size_t used = 0;
    const long long v = std::stoll(it->second, &used);
    if (used != it->second.size()) throw std::invalid_argument(key);
    return v;
  } catch (const std::exception&) {
    fail(where, ": checkpoint metadata '", key, "' is not an integer: '", it->second, "'");
  }
}

// A loss as the shortest text that reads back to the same double (checkpoints stay bit-exact).
std::string loss_text(double loss) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, loss);
  return std::string(buffer, result.ptr);
}

std::optional<double> metadata_loss(const std::map<std::string, std::string>& md,
                                    const std::string& key, const std::string& where) {
  const auto it = md.find(key);
  if (it == md.end()) return std::nullopt;  // not measured, or a checkpoint from before them
  double value = 0;
  const char* end = it->second.data() + it->second.size();
  const auto result = std::from_chars(it->second.data(), end, value);
  if (result.ec != std::errc() || result.ptr != end)
    fail(where, ": checkpoint metadata '", key, "' is not a number: '", it->second, "'");
  return value;
}

std::vector<HostTensor> pick(const std::map<std::string, const HostTensor*>& by_name,
                             const std::vector<ParamSpec>& layout, const std::string& prefix,
                             const std::string& where) {
  std::vector<HostTensor> out;
  for (const auto& spec : layout) {
    const auto it = by_name.find(prefix + spec.name);
    if (it == by_name.end()) fail(where, " lacks tensor '", prefix + spec.name, "'");
    if (it->second->shape != spec.shape) {
      std::string shape;
      for (auto s : it->second->shape) {
        if (!shape.empty()) shape += 'x';
        shape += std::to_string(s);
      }
      fail(where, ": tensor '", prefix + spec.name, "' has shape ", shape,
           ", which does not match the model");
    }
    out.push_back(*it->second);
    out.back().name = spec.name;
  }
  return out;
}

std::map<std::string, const HostTensor*> index(const SafetensorsContent& c) {
  std::map<std::string, const HostTensor*> by_name;
  for (const auto& t : c.tensors) by_name[t.name] = &t;
  return by_name;
}

}  // namespace

std::filesystem::path checkpoint_file(const std::filesystem::path& file_or_dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(file_or_dir, ec)) {
    const auto f = file_or_dir / kCheckpointFileName;
    if (!std::filesystem::exists(f, ec))
      fail("no checkpoint in ", file_or_dir.string(), " (expected ", f.string(), ")");
    return f;
  }
  if (!std::filesystem::exists(file_or_dir, ec))
    fail("checkpoint ", file_or_dir.string(), " does not exist");
  return file_or_dir;
}

void save_checkpoint(const std::filesystem::path& path, const Backend& backend,
                     const TrainingState& state) {
  std::vector<HostTensor> tensors = backend.parameters();
  for (int second = 0; second < 2; ++second) {
    for (auto& t : backend.optimizer_moments(second == 1)) {
      t.name = (second ? "adam_v." : "adam_m.") + t.name;
      tensors.push_back(std::move(t));
    }
  }
  std::map<std::string, std::string> metadata{
      {"format", kCheckpointFormat},
      {"step", std::to_string(state.step)},
      {"optimizer_step", std::to_string(backend.optimizer_step_count())},
      {"tokens_seen", std::to_string(state.tokens_seen)},
      {"data_position", std::to_string(state.data_position)},
      {"seed", std::to_string(state.seed)},
      {"data_rng", "mt19937_64(seed*0x9E3779B97F4A7C15 + epoch), Fisher-Yates per epoch"},
      {"architecture", planner::architecture_to_json(backend.architecture()).dump()},
      {"train_config", state.train_config_json},
      {"backend", backend.name()}};
  if (state.last_val_loss) metadata["last_val_loss"] = loss_text(*state.last_val_loss);
  if (state.last_train_loss) metadata["last_train_loss"] = loss_text(*state.last_train_loss);
  write_safetensors(path, tensors, metadata);
}

TrainingState load_checkpoint(const std::filesystem::path& file_or_dir, Backend& backend) {
  const auto path = checkpoint_file(file_or_dir);
  const std::string where = path.string();
  const SafetensorsContent c = read_safetensors(path);
  const auto fmt = c.metadata.find("format");
  if (fmt == c.metadata.end() || fmt->second != kCheckpointFormat) {
    fail(where, " is not a moeplan checkpoint (metadata 'format' is not ", kCheckpointFormat, ")");
  }
  const auto arch_it = c.metadata.find("architecture");
  if (arch_it == c.metadata.end()) fail(where, ": checkpoint metadata lacks 'architecture'");
  check_json_depth(arch_it->second, where + ": checkpoint metadata 'architecture'");
  law::MoeArchitecture saved;
  try {
    saved = planner::architecture_from_json(nlohmann::json::parse(arch_it->second), where);
  } catch (const nlohmann::json::exception&) {
    fail(where, ": checkpoint metadata 'architecture' is not JSON");
  }
  if (planner::architecture_to_json(saved) !=
      planner::architecture_to_json(backend.architecture())) {
    fail("checkpoint ", where, " is for ", law::describe(saved), ", not ",
         law::describe(backend.architecture()));
  }
  const auto layout = parameter_layout(saved);
  const auto by_name = index(c);
  backend.set_parameters(pick(by_name, layout, "", where));
  backend.set_optimizer_state(pick(by_name, layout, "adam_m.", where),
                              pick(by_name, layout, "adam_v.", where),
                              metadata_int(c.metadata, "optimizer_step", where));
  TrainingState s;
  s.step = metadata_int(c.metadata, "step", where);
  s.tokens_seen = metadata_int(c.metadata, "tokens_seen", where);
  s.data_position = metadata_int(c.metadata, "data_position", where);
  s.seed = static_cast<std::uint64_t>(metadata_int(c.metadata, "seed", where));
  s.last_val_loss = metadata_loss(c.metadata, "last_val_loss", where);
  s.last_train_loss = metadata_loss(c.metadata, "last_train_loss", where);
  const auto cfg = c.metadata.find("train_config");
  if (cfg != c.metadata.end()) s.train_config_json = cfg->second;
  return s;
}

std::vector<HostTensor> load_initial_weights(const std::filesystem::path& path,
                                             const law::MoeArchitecture& arch) {
  const SafetensorsContent c = read_safetensors(path);
  return pick(index(c), parameter_layout(arch), "", path.string());
}

}  // namespace moeplan::verify
