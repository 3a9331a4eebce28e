#include "cli/commands.h"
#include "util/error.h"

namespace moeplan::cli {

// Placeholder: implemented in its own issue.
int run_data_prepare(const std::vector<std::string>& /*args*/) { fail("'data_prepare' is not implemented yet"); }

}  // namespace moeplan::cli
