#include "verify/sweep/slurm_script.h"

#include <sstream>

#include "util/error.h"

namespace moeplan::verify {
namespace {

// Single quotes for bash: 'it'\''s'.
std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

std::string slurm_array_ranges(const std::vector<std::size_t>& indices) {
  std::ostringstream out;
  for (std::size_t i = 0; i < indices.size();) {
    std::size_t j = i;
    while (j + 1 < indices.size() && indices[j + 1] == indices[j] + 1) ++j;
    out << (i ? "," : "") << indices[i];
    if (j > i) out << "-" << indices[j];
    i = j + 1;
  }
  return out.str();
}

std::string slurm_script(const SlurmScriptOptions& o) {
  if (o.indices.empty()) fail("no runs to submit: every run of the sweep is in the ledger");
  if (!o.executable.is_absolute() || !o.sweep_dir.is_absolute())
    fail("the Slurm script needs absolute paths");
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# moeplan sweep: " << o.indices.size() << " runs of " << o.sweep_dir.string()
    << " as a job array. Submit with 'sbatch FILE'; after it ends, 'moeplan sweep ... "
       "--emit-slurm FILE' again writes the runs still missing (bracketing adds some).\n"
    << "#SBATCH --job-name=moeplan-sweep\n"
    << "#SBATCH --array=" << slurm_array_ranges(o.indices) << "%" << o.concurrency << "\n"
    << "#SBATCH --ntasks=1\n"
    << "#SBATCH --cpus-per-task=1\n";
  if (o.device == "cuda") s << "#SBATCH --gres=gpu:1\n";
  s << "#SBATCH --requeue\n"
    << "#SBATCH --output=" << (o.sweep_dir / "slurm" / "%A_%a.out").string() << "\n"
    << "set -euo pipefail\n"
    << "exec " << shell_quote(o.executable.string())
    << " sweep --worker --index \"$SLURM_ARRAY_TASK_ID\" --out "
    << shell_quote(o.sweep_dir.string()) << "\n";
  return s.str();
}

}  // namespace moeplan::verify
