#pragma once
// The CSV of training runs that `law fit` and `law surface` read, such as the ledger
// SWEEP/runs.csv that `moeplan sweep` writes. The header row names the columns,
// case-insensitively, in any order; extra columns are ignored:
//   params | N | total_params            total parameters (required)
//   tokens | D                           training tokens (required)
//   sparsity | S                         fraction of inactive experts (required unless optional)
//   loss, else val_loss                  measured loss, nats (required; a file with both columns
//                                        is read by `loss`: the ledger has only val_loss)
//   budget | C | flops                   training FLOPs (optional)
//   active_params | N_a | N_active | active   active parameters (optional)
//   status                               optional: a row whose status is not `ok` (the ledger's
//                                        `diverged`, `failed`) is left out before its cells are
//                                        read, so its empty loss is no error, and counted
// Blank lines and lines starting with '#' are skipped. Every error names the file and line.
#include <cstddef>
#include <cstdint>
#include <istream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "law/fit_objective.h"

namespace moeplan::planner {

// A runs CSV is a few numbers per row: a million rows (far more than any sweep) of the widest
// ledger fit in a few hundred MiB. A longer line or a larger file is refused from its length or
// size, before it is read whole.
inline constexpr std::size_t kMaxRunsCsvLineBytes = 64 << 10;
inline constexpr std::uintmax_t kMaxRunsCsvBytes = std::uintmax_t{1} << 30;

struct RunsCsv {
  std::vector<law::FitRun> runs;                // the ok rows, in file order
  std::map<std::string, std::size_t> left_out;  // rows left out, by status ("diverged": 3, ...)
  std::size_t left_out_count() const;
};

RunsCsv parse_runs_table(const std::string& text, const std::string& origin,
                         bool sparsity_optional = false);
RunsCsv parse_runs_stream(std::istream& in, const std::string& origin,
                          bool sparsity_optional = false);
// The file, read line by line under kMaxRunsCsvBytes and kMaxRunsCsvLineBytes.
RunsCsv read_runs_table(const std::string& path, bool sparsity_optional = false);

// The runs only (what was left out is not reported).
std::vector<law::FitRun> parse_runs_csv(const std::string& text, const std::string& origin,
                                        bool sparsity_optional = false);
std::vector<law::FitRun> read_runs_csv(const std::string& path, bool sparsity_optional = false);

// "left out 4 runs: 3 diverged, 1 failed", or "" when none was.
std::string left_out_line(const RunsCsv& table);
// {"runs": 4, "by_status": {"diverged": 3, "failed": 1}}.
nlohmann::json left_out_json(const RunsCsv& table);

}  // namespace moeplan::planner
