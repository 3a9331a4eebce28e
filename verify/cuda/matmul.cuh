#pragma once
// bf16 GEMMs with fp32 accumulation through cuBLAS (cublasGemmEx, CUBLAS_COMPUTE_32F, which runs
// cuBLASLt's kernels and manages its own workspace).
//
// Everything in moeplan is ROW-MAJOR. cuBLAS is column-major, and a row-major (R, C) matrix is the
// column-major (C, R) matrix with the same bytes, so C = op(A)·op(B) (row-major) is computed as
// Cᵀ = op(B)ᵀ·op(A)ᵀ (column-major): the operands swap places, the transposes stay.
//
// A linear layer y = x·Wᵀ, x (N, in), W (out, in) as torch.nn.Linear, needs three products:
//   forward   y  (N, out)  = x  · Wᵀ      gemm(kNo,  kYes, N,   out, in)
//   input     dx (N, in)   = dy · W       gemm(kNo,  kNo,  N,   in,  out)
//   weight    dW (out, in) += dyᵀ · x     gemm(kYes, kNo,  out, in,  N)    beta = 1 (accumulate)
#include <cublas_v2.h>

#include "verify/cuda/common.cuh"

namespace moeplan::cuda {

enum class Trans { kNo, kYes };
enum class OutType { kBf16, kFp32 };

class Blas {
 public:
  Blas();
  ~Blas();
  Blas(const Blas&) = delete;
  Blas& operator=(const Blas&) = delete;
  cublasHandle_t handle() const { return handle_; }
  void set_stream(cudaStream_t stream);

 private:
  cublasHandle_t handle_ = nullptr;
};

// C (m, n) = alpha·op(A)·op(B) + beta·C, all row-major; A is (m, k) after op, B (k, n) after op.
// lda/ldb/ldc: row strides (elements) of A, B, C as stored. C is bf16 or fp32 per `out`.
void gemm(const Blas& blas, Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
          const bf16* a, std::int64_t lda, const bf16* b, std::int64_t ldb, void* c,
          std::int64_t ldc, OutType out, float alpha, float beta);

// The three products of a linear layer (contiguous row-major tensors).
// y (N, out) = x (N, in) · W (out, in)ᵀ  [+ y if accumulate]
void linear_forward(const Blas& blas, const bf16* x, const bf16* w, void* y, OutType out,
                    std::int64_t n_rows, std::int64_t in, std::int64_t out_features,
                    bool accumulate = false);
// dx (N, in) = dy (N, out) · W (out, in)  [+ dx if accumulate]
void linear_backward_input(const Blas& blas, const bf16* dy, const bf16* w, void* dx, OutType out,
                           std::int64_t n_rows, std::int64_t in, std::int64_t out_features,
                           bool accumulate = false);
// dW (out, in) += dy (N, out)ᵀ · x (N, in), fp32 gradient buffer
void linear_backward_weight(const Blas& blas, const bf16* dy, const bf16* x, float* dw,
                            std::int64_t n_rows, std::int64_t in, std::int64_t out_features);

}  // namespace moeplan::cuda
