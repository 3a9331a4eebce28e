#include "tests/support/example_runs.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <sstream>

#include "law/presets.h"
#include "law/scaling_law.h"
#include "planner/recipe.h"
#include "planner/shape_rule.h"

namespace moeplan::testing {
namespace {

constexpr std::int64_t kVocab = 50432, kContext = 2048;
constexpr double kNoise = 0.005;  // log-normal, as the run-to-run noise of a small sweep

// FNV-1a, 64 bits: a stable stand-in for the sweep's configuration hash.
std::string fnv1a(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// A standard normal from two uniforms (Box–Muller), so the file is the same with every
// standard library (std::normal_distribution's algorithm is not specified).
double normal(std::mt19937_64& rng) {
  const auto uniform = [&] { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; };
  return std::sqrt(-2.0 * std::log(uniform())) * std::cos(2.0 * M_PI * uniform());
}

std::string g(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

// One ledger row; `status` other than ok leaves the loss cells empty.
std::string row(double budget, std::int64_t d_model, double sparsity, const std::string& status,
                std::mt19937_64& rng) {
  planner::ShapeRule rule;
  rule.vocab_size = kVocab;
  rule.context = kContext;
  const auto shape =
      planner::continuous_shape_at_width(static_cast<double>(d_model), sparsity, rule);
  const double tokens = budget / (6 * shape.active_params);
  const planner::Recipe recipe = planner::make_recipe(budget, tokens, kContext);
  const std::string config = g(budget) + "," + std::to_string(d_model) + "," + g(sparsity);
  std::ostringstream out;
  out << fnv1a(config) << "," << status << "," << g(budget) << "," << g(shape.total_params) << ","
      << g(shape.active_params) << "," << g(tokens) << "," << g(sparsity) << "," << d_model << ","
      << std::llround(shape.n_layers) << "," << std::llround(shape.n_heads) << ","
      << std::llround(shape.experts) << ",1,1," << kVocab << "," << kContext << ","
      << recipe.deepseek.batch_sequences << "," << g(recipe.deepseek_peak_lr) << ",1,"
      << recipe.deepseek.steps << ",";
  const double loss =
      law::predict_loss(law::preset_law("abnar2025"), shape.total_params, tokens, sparsity);
  const double noisy = loss * std::exp(kNoise * normal(rng));
  if (status == "ok")
    out << g(noisy) << "," << g(noisy * 1.01);
  else
    out << ",";
  const double seconds = 6 * shape.active_params * tokens / 4e14;  // at 400 TFLOP/s
  out << "," << g(tokens / seconds) << "," << g(seconds) << ",synthetic:abnar2025,"
      << MOEPLAN_VERSION << "\n";
  return out.str();
}

}  // namespace

std::string example_runs_csv() {
  std::mt19937_64 rng(2025);
  std::ostringstream out;
  out << "# 40 synthetic runs: losses of the abnar2025 preset with 0.5% noise (not measured).\n"
      << "# Written by tests/support/example_runs.cpp: MOEPLAN_WRITE_EXAMPLES=1 "
         "build/tests/example_runs_test\n"
      << "key,status,C,N,N_active,D,S,d_model,layers,heads,E,K,G,vocab,context,batch,lr,seed,steps,"
         "val_loss,train_loss,tokens_per_s,seconds,data_fingerprint,moeplan_version\n";
  // Widths (multiples of the aspect ratio 128) whose active parameters span about ×6 around
  // the budget's optimum.
  const struct {
    double budget;
    std::int64_t widths[3];
  } budgets[] = {{1e18, {256, 384, 512}}, {1e19, {384, 640, 896}}, {1e20, {640, 1024, 1536}}};
  for (const auto& b : budgets)
    for (double sparsity : {0.0, 0.5, 0.75, 0.875})
      for (std::int64_t width : b.widths) out << row(b.budget, width, sparsity, "ok", rng);
  // Runs that did not finish: a larger size at 1e20 (what bracketing would add).
  out << row(1e20, 2048, 0.0, "diverged", rng) << row(1e20, 2048, 0.5, "diverged", rng)
      << row(1e20, 2048, 0.75, "failed", rng) << row(1e20, 2048, 0.875, "failed", rng);
  return out.str();
}

}  // namespace moeplan::testing
