#include "cli/commands.h"
#include "util/error.h"

namespace moeplan::cli {

// Placeholder: implemented in its own issue.
int run_law_eval(const std::vector<std::string>& /*args*/) { fail("'law_eval' is not implemented yet"); }

}  // namespace moeplan::cli
