#pragma once
// Small helpers shared by the kernel families: bf16 type, ceil-div, argument checks in launchers
// and an owning device buffer. Host-compilable (tests include the launchers' headers with g++).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "util/error.h"
#include "verify/cuda/check.cuh"

namespace moeplan::cuda {

using bf16 = __nv_bfloat16;

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Launcher argument checks: a bad shape is a bug in the caller, reported with the value.
#define MOEPLAN_REQUIRE(cond, ...)                                                      \
  do {                                                                                  \
    if (!(cond)) ::moeplan::fail(__func__, ": ", #cond, " violated: ", __VA_ARGS__);    \
  } while (0)

// Owning device allocation of n elements of T (uninitialised); moves, never copies.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n) { resize(n); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(ptr_, o.ptr_);
    std::swap(n_, o.n_);
    return *this;
  }
  ~DeviceBuffer() {
    if (ptr_) cudaFree(ptr_);
  }
  // Exception-safe: the old memory is freed first (a resize never holds both), and a failed
  // allocation leaves the buffer empty (size 0), never claiming memory it does not have.
  void resize(std::size_t n) {
    if (n == n_) return;
    release();
    if (n == 0) return;
    T* fresh = nullptr;
    CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&fresh), n * sizeof(T)));
    ptr_ = fresh;
    n_ = n;
  }
  void release() {
    T* old = std::exchange(ptr_, nullptr);
    n_ = 0;
    if (old) CUDA_CHECK(cudaFree(old));
  }
  void zero(cudaStream_t stream = nullptr) {
    if (n_ > 0) CUDA_CHECK(cudaMemsetAsync(ptr_, 0, n_ * sizeof(T), stream));
  }
  T* get() const { return ptr_; }
  std::size_t size() const { return n_; }

 private:
  T* ptr_ = nullptr;
  std::size_t n_ = 0;
};

#ifdef __CUDACC__
// Sum over a warp (every lane gets the total).
__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ inline float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
// Sum over the block (blockDim.x a multiple of 32, <= 1024); every thread gets the total.
// `scratch` holds 32 floats of shared memory; the function synchronises the block.
__device__ inline float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : 0.0f;
  return warp_sum(v);
}
__device__ inline float block_max(float v, float* scratch) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : -INFINITY;
  return warp_max(v);
}
__device__ inline float to_float(float v) { return v; }
__device__ inline float to_float(bf16 v) { return __bfloat162float(v); }
#endif

}  // namespace moeplan::cuda
