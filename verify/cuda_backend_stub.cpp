// Without nvcc the CUDA model is not built; asking for it is a clear error, not a link failure.
#ifndef MOEPLAN_HAVE_CUDA
#include "util/error.h"
#include "verify/backend.h"

namespace moeplan::verify {

std::unique_ptr<Backend> make_cuda_backend(const law::MoeArchitecture&, std::uint64_t) {
  fail("moeplan was built without CUDA (nvcc not found at configure time); use --device cpu");
}

}  // namespace moeplan::verify
#endif
