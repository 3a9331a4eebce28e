#include "cli/commands.h"
#include "util/error.h"

namespace moeplan::cli {

// Placeholder: implemented in its own issue.
int run_count(const std::vector<std::string>& /*args*/) { fail("'count' is not implemented yet"); }

}  // namespace moeplan::cli
