#pragma once
// The C interface of libmoeplan_cuda.so, the CUDA trainer that `moeplan` opens with dlopen only
// when a CUDA backend is wanted (verify/cuda_library.cpp), so that planning never maps cuBLAS or
// cuDNN. No C++ exception and no C++ library object crosses it: the main binary links libstdc++
// statically (it runs where the system's is older), so the two sides may not share a C++
// runtime. Functions return 0 on success, or non-zero with a one-line message in `error`.
// Tensors travel as flat fp32 arrays in parameter_layout() order (verify/model_layout.h); the
// structs passed by pointer are trivially copyable and compiled from the same headers.
#include <cstddef>
#include <cstdint>

#include "law/architecture.h"
#include "verify/backend.h"

extern "C" {

// Bumped whenever the table below changes; the loader refuses another version.
inline constexpr int kMoeplanCudaApiVersion = 1;
inline constexpr const char* kMoeplanCudaApiSymbol = "moeplan_cuda_api";

struct MoeplanCudaModel;  // opaque: a CUDA model behind verify::Backend

struct MoeplanCudaDeviceInfo {
  char name[256];
  std::size_t total_bytes;
  std::size_t free_bytes;
  int compute_capability;  // e.g. 90
  std::size_t cudnn_version;
};

// Which flat array get_tensors copies out.
enum MoeplanCudaTensors {
  kMoeplanParameters = 0,
  kMoeplanMomentM,
  kMoeplanMomentV,
  kMoeplanGradients
};

struct MoeplanCudaApi {
  int version;
  int (*device_info)(MoeplanCudaDeviceInfo* info, char* error, std::size_t error_size);
  MoeplanCudaModel* (*create)(const moeplan::law::MoeArchitecture* arch, std::uint64_t seed,
                              char* error, std::size_t error_size);
  void (*destroy)(MoeplanCudaModel* model);
  int (*get_tensors)(MoeplanCudaModel* model, int which, float* out, std::size_t count, char* error,
                     std::size_t error_size);
  int (*set_parameters)(MoeplanCudaModel* model, const float* values, std::size_t count,
                        char* error, std::size_t error_size);
  int (*set_optimizer_state)(MoeplanCudaModel* model, const float* m, const float* v,
                             std::size_t count, std::int64_t step, char* error,
                             std::size_t error_size);
  std::int64_t (*optimizer_step_count)(MoeplanCudaModel* model);
  // `parts`: total, ce, aux, z (verify::LossParts).
  int (*forward_backward)(MoeplanCudaModel* model, const moeplan::verify::Batch* batch,
                          double loss_scale, double parts[4], char* error, std::size_t error_size);
  int (*optimizer_step)(MoeplanCudaModel* model, const moeplan::verify::AdamWSettings* settings,
                        double lr, double* grad_norm, char* error, std::size_t error_size);
  int (*evaluate)(MoeplanCudaModel* model, const moeplan::verify::Batch* batch, double* loss,
                  char* error, std::size_t error_size);
};

// The one exported symbol: the table, or null when `version` is not this library's.
const MoeplanCudaApi* moeplan_cuda_api(int version);
typedef const MoeplanCudaApi* (*MoeplanCudaApiEntry)(int version);
}
