#include "cli/commands.h"
#include "util/error.h"

namespace moeplan::cli {

// Placeholder: implemented in its own issue.
int run_train(const std::vector<std::string>& /*args*/) { fail("'train' is not implemented yet"); }

}  // namespace moeplan::cli
