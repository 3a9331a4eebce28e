#include "util/error.h"
#include "verify/cuda/check.cuh"
#include "verify/cuda/device.h"

namespace moeplan::cuda {

void throw_cuda_error(const char* what, const std::string& detail, const char* file, int line) {
  fail(what, " failed: ", detail, " (", file, ":", line, ")");
}

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return count;
}

DeviceInfo device_info() {
  if (device_count() == 0) fail("no CUDA device found");
  DeviceInfo info;
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  info.name = prop.name;
  info.compute_capability = prop.major * 10 + prop.minor;
  CUDA_CHECK(cudaMemGetInfo(&info.free_bytes, &info.total_bytes));
  info.cudnn_version = cudnnGetVersion();
  return info;
}

}  // namespace moeplan::cuda
