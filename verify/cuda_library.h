#pragma once
// The CUDA trainer as a library opened on demand: libmoeplan_cuda.so (verify/cuda/, through the C
// interface of verify/cuda/trainer_api.h) is opened with dlopen the first time a CUDA backend or
// the device's details are asked for, never by commands that plan, count or fit. It is looked for
// at $MOEPLAN_CUDA_LIBRARY when set, else next to the moeplan executable (/proc/self/exe), in
// ../lib from it, and on the loader's path. verify::make_cuda_backend() (backend.h) builds a
// Backend through it.
#include "verify/cuda/device.h"

namespace moeplan::verify {

inline constexpr const char* kCudaLibraryName = "libmoeplan_cuda.so";
inline constexpr const char* kCudaLibraryVariable = "MOEPLAN_CUDA_LIBRARY";

// Device 0 through the library; throws moeplan::Error naming the library (or the library it
// needs, cuBLAS or cuDNN) when it cannot be loaded, or when there is no GPU.
cuda::DeviceInfo cuda_device_info();

// Whether this moeplan was built with the CUDA trainer (nvcc found at configure time); commands
// whose default device is "cuda" in such a build and "cpu" otherwise ask here.
bool built_with_cuda();

}  // namespace moeplan::verify
