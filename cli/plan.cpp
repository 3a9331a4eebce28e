#include "cli/commands.h"
#include "util/error.h"

namespace moeplan::cli {

// Placeholder: implemented in its own issue.
int run_plan(const std::vector<std::string>& /*args*/) { fail("'plan' is not implemented yet"); }

}  // namespace moeplan::cli
