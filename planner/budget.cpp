#include "planner/budget.h"

#include <cmath>
#include <sstream>

#include "util/error.h"
#include "util/text.h"
#include "util/units.h"

namespace moeplan::planner {

const std::vector<GpuModel>& gpu_models() {
  static const std::vector<GpuModel> models = {
      {"h100", 989e12},  {"h200", 989e12},      {"a100", 312e12},
      {"b200", 2250e12}, {"mi300x", 1307.4e12}, {"l40s", 362e12},
  };
  return models;
}

double gpu_peak_flops(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& g : gpu_models()) {
    if (name == g.name) return g.peak_flops;
    names.push_back(g.name);
  }
  throw Error(unknown_name_message("GPU", name, names) + " (or give --gpu-flops)");
}

Budget resolve_budget(const BudgetInput& in) {
  Budget b;
  const bool from_hours = in.gpu_hours.has_value();
  if (in.flops && from_hours) fail("--budget and --gpu-hours cannot be used together");
  if (!in.flops && !from_hours) fail("give the training budget: --budget FLOPS or --gpu-hours H");
  if (in.flops) {
    if (!(*in.flops > 0) || !std::isfinite(*in.flops))
      fail("--budget must be a positive number of FLOPs, got ", *in.flops);
    if (in.gpu || in.gpu_flops) fail("--gpu and --gpu-flops only apply with --gpu-hours");
    b.flops = *in.flops;
    b.derivation = "given (--budget)";
    return b;
  }
  if (in.gpu && in.gpu_flops) fail("--gpu and --gpu-flops cannot be used together");
  if (!in.gpu && !in.gpu_flops) fail("--gpu-hours needs --gpu NAME or --gpu-flops FLOP/s");
  if (!(in.mfu > 0 && in.mfu <= 1)) fail("--mfu must be in (0, 1], got ", in.mfu);
  const double peak = in.gpu ? gpu_peak_flops(*in.gpu) : *in.gpu_flops;
  b.gpu_hours = in.gpu_hours;
  b.gpu = in.gpu;
  b.peak_flops = peak;
  b.mfu = in.mfu;
  b.flops = *in.gpu_hours * 3600.0 * peak * in.mfu;
  if (!(b.flops > 0) || !std::isfinite(b.flops))
    fail("the derived budget is not a positive number");
  std::ostringstream s;
  s << *in.gpu_hours << " GPU-hours x 3600 s x " << format_sci(peak) << " FLOP/s"
    << (in.gpu ? " (" + *in.gpu + " dense bf16 peak)" : std::string()) << " x MFU " << in.mfu
    << " = " << format_sci(b.flops) << " FLOPs";
  b.derivation = s.str();
  return b;
}

}  // namespace moeplan::planner
