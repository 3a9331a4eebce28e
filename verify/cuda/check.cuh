#pragma once
// Every CUDA, cuBLAS and cuDNN call goes through one of these: a failure throws moeplan::Error
// naming the call, the file and the line. Kernel launches are followed by CUDA_CHECK_LAUNCH().
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

namespace moeplan::cuda {

[[noreturn]] void throw_cuda_error(const char* what, const std::string& detail, const char* file,
                                   int line);

}  // namespace moeplan::cuda

#define CUDA_CHECK(call)                                                                       \
  do {                                                                                         \
    cudaError_t moeplan_status_ = (call);                                                      \
    if (moeplan_status_ != cudaSuccess)                                                        \
      ::moeplan::cuda::throw_cuda_error(#call, cudaGetErrorString(moeplan_status_), __FILE__,  \
                                        __LINE__);                                             \
  } while (0)

#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

#define CUBLAS_CHECK(call)                                                                     \
  do {                                                                                         \
    cublasStatus_t moeplan_status_ = (call);                                                   \
    if (moeplan_status_ != CUBLAS_STATUS_SUCCESS)                                              \
      ::moeplan::cuda::throw_cuda_error(#call, cublasGetStatusString(moeplan_status_),         \
                                        __FILE__, __LINE__);                                   \
  } while (0)

#define CUDNN_CHECK(call)                                                                      \
  do {                                                                                         \
    cudnnStatus_t moeplan_status_ = (call);                                                    \
    if (moeplan_status_ != CUDNN_STATUS_SUCCESS)                                               \
      ::moeplan::cuda::throw_cuda_error(#call, cudnnGetErrorString(moeplan_status_), __FILE__, \
                                        __LINE__);                                             \
  } while (0)
