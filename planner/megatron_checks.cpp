#include "planner/megatron_checks.h"

#include <sstream>

#include "util/error.h"

namespace moeplan::planner {

std::int64_t MegatronArgs::integer(const std::string& flag, std::int64_t fallback) const {
  const auto it = values.find(flag);
  if (it == values.end()) return fallback;
  std::size_t used = 0;
  const long long v = std::stoll(it->second, &used);
  if (used != it->second.size()) fail(flag, " is not an integer: '", it->second, "'");
  return v;
}

double MegatronArgs::real(const std::string& flag, double fallback) const {
  const auto it = values.find(flag);
  return it == values.end() ? fallback : std::stod(it->second);
}

MegatronArgs parse_megatron_args(const std::string& text) {
  const std::string start = "MOEPLAN_MEGATRON_ARGS=(";
  const auto begin = text.find(start);
  const auto end = text.find("\n)", begin);
  if (begin == std::string::npos || end == std::string::npos)
    fail("no MOEPLAN_MEGATRON_ARGS=( ... ) array in the Megatron arguments");
  MegatronArgs args;
  std::istringstream lines(text.substr(begin + start.size(), end - begin - start.size()));
  std::string flag, value;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    if (!(words >> flag)) continue;
    value.clear();
    words >> value;
    args.values[flag] = value;
  }
  return args;
}

std::vector<std::string> megatron_violations(const MegatronArgs& a, std::int64_t world) {
  std::vector<std::string> out;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) out.push_back(what);
  };
  const std::int64_t tp = a.integer("--tensor-model-parallel-size", 1);
  const std::int64_t pp = a.integer("--pipeline-model-parallel-size", 1);
  const std::int64_t ep = a.integer("--expert-model-parallel-size", 1);
  const std::int64_t etp = a.integer("--expert-tensor-parallel-size", tp);
  const std::int64_t layers = a.integer("--num-layers", 0);
  const std::int64_t hidden = a.integer("--hidden-size", 0);
  const std::int64_t heads = a.integer("--num-attention-heads", 0);
  const std::int64_t groups = a.integer("--num-query-groups", heads);
  const std::int64_t experts = a.integer("--num-experts", 0);
  const std::int64_t seq = a.integer("--seq-length", 0);
  const std::int64_t micro = a.integer("--micro-batch-size", 1);
  check(tp >= 1 && pp >= 1 && ep >= 1 && world % (tp * pp) == 0,
        "world size is not divisible by TP x PP (arguments.py)");
  if (out.empty()) {
    const std::int64_t dp = world / (tp * pp);
    check(world % (etp * ep * pp) == 0,
          "world size is not divisible by ETP x EP x PP (parallel_state.py)");
    check(a.integer("--global-batch-size", micro * dp) % (micro * dp) == 0,
          "global batch size is not divisible by micro batch size x DP "
          "(num_microbatches_calculator.py)");
  }
  check(layers > 0 && layers % pp == 0, "layers are not divisible by PP (arguments.py)");
  check(a.has("--kv-channels") || (heads > 0 && hidden % heads == 0),
        "hidden size is not divisible by heads (arguments.py)");
  check(a.integer("--max-position-embeddings", seq) >= seq,
        "max_position_embeddings is below seq_length (arguments.py)");
  check(a.real("--min-lr", 0) <= a.real("--lr", 0) || !a.has("--lr"),
        "min_lr is above lr (arguments.py)");
  check(ep == 1 || (experts > 0 && experts % ep == 0),
        "experts are not a multiple of EP (arguments.py)");
  const auto format = a.values.find("--ckpt-format");
  check(!a.has("--use-megatron-fsdp") ||
            (format != a.values.end() && format->second == "fsdp_dtensor"),
        "Megatron FSDP needs --ckpt-format fsdp_dtensor (arguments.py)");
  check(heads > 0 && heads % tp == 0, "heads are not a multiple of TP (transformer_config.py)");
  check(groups > 0 && (groups % tp == 0 || tp % groups == 0),
        "query groups are neither a multiple nor a divisor of TP (transformer_config.py)");
  check(tp == 1 || experts == 0 || a.has("--sequence-parallel"),
        "MoE training with TP > 1 needs --sequence-parallel (moe_layer.py)");
  check(!a.has("--sequence-parallel") || seq % tp == 0,
        "sequence length is not divisible by TP under sequence parallelism (mappings.py)");
  check(a.integer("--ffn-hidden-size", 0) % tp == 0 &&
            a.integer("--moe-ffn-hidden-size", 0) % etp == 0,
        "FFN widths are not divisible by TP / ETP (tensor_parallel/layers.py)");
  check(!a.has("--train-iters") || a.integer("--lr-warmup-iters", 0) <
                                       a.integer("--lr-decay-iters", a.integer("--train-iters", 0)),
        "warm-up iterations are not below the decay iterations (optimizer_param_scheduler.py)");
  check(experts == 0 || a.integer("--moe-router-topk", 2) <= experts,
        "top-k is above the number of experts");
  return out;
}

}  // namespace moeplan::planner
