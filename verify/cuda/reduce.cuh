#pragma once
// Deterministic reductions: every sum is taken in an order fixed by the shapes alone, never by
// which block or warp finishes first, so a training run repeats bit for bit (float atomics made
// two runs from the same inputs differ after one step). Each is two launches: fixed-stride
// partial sums, then one fixed-order pass over the partials, kept in stream-ordered scratch.
// Included by the kernel files (templates need the element functor's definition).
#include <algorithm>

#include "verify/cuda/common.cuh"

namespace moeplan::cuda {

#ifdef __CUDACC__
namespace reduce_detail {

constexpr int kThreads = 256;
constexpr int kMaxPartials = 1024;
constexpr int kColumnTile = 32;  // columns per block of column_sums
constexpr int kRowLanes = 8;     // row stripes per block of column_sums
constexpr int kMaxRowChunks = 64;

// Partial sums of element(i) for i < n over a fixed grid, one double per block.
template <typename Element>
__global__ void partial_sums_kernel(Element element, std::int64_t n, double* partials) {
  __shared__ double scratch[kThreads];
  double s = 0;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * kThreads + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * kThreads)
    s += static_cast<double>(element(i));
  scratch[threadIdx.x] = s;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {  // a fixed tree
    if (threadIdx.x < half) scratch[threadIdx.x] += scratch[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = scratch[0];
}

// *out += Σ partials[0..count) in index order (one thread: count ≤ kMaxPartials). static: each
// kernel file that includes this header has its own copy.
static __global__ void add_partials_kernel(const double* partials, int count, double* out) {
  double s = 0;
  for (int i = 0; i < count; ++i) s += partials[i];
  *out += s;
}

// Per (row chunk, column): Σ element(row, col) over the chunk's rows, rows in a fixed stripe
// order per thread and the stripes added in order.
template <typename Element>
__global__ void column_partials_kernel(Element element, std::int64_t rows, std::int64_t cols,
                                       std::int64_t rows_per_chunk, float* partials) {
  __shared__ float stripe[kRowLanes][kColumnTile];
  const std::int64_t col = static_cast<std::int64_t>(blockIdx.x) * kColumnTile + threadIdx.x;
  const std::int64_t begin = static_cast<std::int64_t>(blockIdx.y) * rows_per_chunk;
  const std::int64_t end = begin + rows_per_chunk < rows ? begin + rows_per_chunk : rows;
  float s = 0.0f;
  if (col < cols)
    for (std::int64_t r = begin + threadIdx.y; r < end; r += kRowLanes) s += element(r, col);
  stripe[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && col < cols) {
    float total = 0.0f;
    for (int y = 0; y < kRowLanes; ++y) total += stripe[y][threadIdx.x];
    partials[static_cast<std::int64_t>(blockIdx.y) * cols + col] = total;
  }
}

// out[col] += Σ over chunks, in chunk order.
static __global__ void add_column_partials_kernel(const float* partials, int chunks,
                                                  std::int64_t cols, float* out) {
  const std::int64_t col = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (col >= cols) return;
  float s = 0.0f;
  for (int c = 0; c < chunks; ++c) s += partials[static_cast<std::int64_t>(c) * cols + col];
  out[col] += s;
}

}  // namespace reduce_detail

// Elements for deterministic_sum: an array's values, or their squares, as double.
template <typename T>
struct ValuesOf {
  const T* values;
  __device__ double operator()(std::int64_t i) const { return values[i]; }
};
template <typename T>
struct SquaresOf {
  const T* values;
  __device__ double operator()(std::int64_t i) const {
    const double v = values[i];
    return v * v;
  }
};

// *out += Σ_{i<n} element(i), accumulated in double. `element` is a __device__ functor
// (std::int64_t) -> float or double, passed by value.
template <typename Element>
void deterministic_sum(Element element, std::int64_t n, double* out, cudaStream_t stream) {
  using namespace reduce_detail;
  MOEPLAN_REQUIRE(n >= 0, "n=", n);
  if (n == 0) return;
  const int blocks = static_cast<int>(std::min<std::int64_t>(ceil_div(n, kThreads), kMaxPartials));
  double* partials = nullptr;
  CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&partials), blocks * sizeof(double), stream));
  partial_sums_kernel<<<blocks, kThreads, 0, stream>>>(element, n, partials);
  CUDA_CHECK_LAUNCH();
  add_partials_kernel<<<1, 1, 0, stream>>>(partials, blocks, out);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaFreeAsync(partials, stream));
}

// out[col] += Σ_{row<rows} element(row, col) for col < cols. `element` is a __device__ functor
// (std::int64_t row, std::int64_t col) -> float; consecutive columns should be adjacent in
// memory (the threads of a warp take consecutive columns).
template <typename Element>
void deterministic_column_sums(Element element, std::int64_t rows, std::int64_t cols, float* out,
                               cudaStream_t stream) {
  using namespace reduce_detail;
  MOEPLAN_REQUIRE(rows >= 0 && cols > 0 && cols < (1LL << 31), "rows=", rows, " cols=", cols);
  if (rows == 0) return;
  // Enough (chunk, column tile) blocks to fill the GPU; each chunk at least 64 rows.
  const int chunks = static_cast<int>(std::min<std::int64_t>(ceil_div(rows, 64), kMaxRowChunks));
  const std::int64_t rows_per_chunk = ceil_div(rows, chunks);
  float* partials = nullptr;
  CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&partials),
                             static_cast<std::size_t>(chunks) * cols * sizeof(float), stream));
  const dim3 grid(static_cast<unsigned>(ceil_div(cols, kColumnTile)),
                  static_cast<unsigned>(chunks));
  column_partials_kernel<<<grid, dim3(kColumnTile, kRowLanes), 0, stream>>>(
      element, rows, cols, rows_per_chunk, partials);
  CUDA_CHECK_LAUNCH();
  add_column_partials_kernel<<<static_cast<unsigned>(ceil_div(cols, kThreads)), kThreads, 0,
                               stream>>>(partials, chunks, cols, out);
  CUDA_CHECK_LAUNCH();
  CUDA_CHECK(cudaFreeAsync(partials, stream));
}
#endif

}  // namespace moeplan::cuda
