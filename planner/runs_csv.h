#pragma once
// The CSV of training runs that `law fit` and `law surface` read (as `moeplan sweep` writes).
// Header row names the columns, case-insensitively, in any order; extra columns are ignored:
//   params | N | total_params     total parameters (required)
//   tokens | D                     training tokens (required)
//   sparsity | S                   fraction of inactive experts (required unless optional_sparsity)
//   loss                           measured loss, nats (required)
//   budget | C | flops             training FLOPs (optional)
//   active_params | N_a | active   active parameters (optional)
// Blank lines and lines starting with '#' are skipped. Every error names the file and line.
#include <string>
#include <vector>

#include "law/fit_objective.h"

namespace moeplan::planner {

std::vector<law::FitRun> parse_runs_csv(const std::string& text, const std::string& origin,
                                        bool sparsity_optional = false);
std::vector<law::FitRun> read_runs_csv(const std::string& path, bool sparsity_optional = false);

}  // namespace moeplan::planner
