#include "cli/commands.h"
#include "util/error.h"

namespace moeplan::cli {

// Placeholder: implemented in its own issue.
int run_law_show(const std::vector<std::string>& /*args*/) { fail("'law_show' is not implemented yet"); }

}  // namespace moeplan::cli
