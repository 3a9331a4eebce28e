#pragma once
// Plain C++ view of the CUDA device, usable from code compiled without nvcc.
#include <cstddef>
#include <string>

namespace moeplan::cuda {

// Number of usable CUDA devices; 0 when there is no driver or no GPU (never throws).
int device_count();

struct DeviceInfo {
  std::string name;
  std::size_t total_bytes = 0;
  std::size_t free_bytes = 0;
  int compute_capability = 0;  // e.g. 90
  std::size_t cudnn_version = 0;  // cudnnGetVersion() at run time, e.g. 91400
};

// Information on device 0; throws moeplan::Error when there is none.
DeviceInfo device_info();

}  // namespace moeplan::cuda
