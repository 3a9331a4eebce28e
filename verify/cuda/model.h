#pragma once
// The CUDA model behind verify::Backend: fp32 master weights, AdamW state and gradients in flat
// device buffers (parameter_layout() order), a bf16 copy of the weights for the GEMMs, bf16
// activations with an fp32 residual stream. libmoeplan_cuda.so
// (trainer_api.cpp) builds one for verify::make_cuda_backend(); the GPU tests call it directly.
#include <memory>

#include "verify/backend.h"

namespace moeplan::cuda {

std::unique_ptr<verify::Backend> make_cuda_model(const law::MoeArchitecture& arch,
                                                 std::uint64_t seed);

}  // namespace moeplan::cuda
