#include "verify/cuda/matmul.cuh"

namespace moeplan::cuda {

Blas::Blas() {
  CUBLAS_CHECK(cublasCreate(&handle_));
  // Tensor-core math; fp32 accumulation is requested per call (CUBLAS_COMPUTE_32F).
  CUBLAS_CHECK(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));
}

Blas::~Blas() {
  if (handle_) cublasDestroy(handle_);
}

void Blas::set_stream(cudaStream_t stream) { CUBLAS_CHECK(cublasSetStream(handle_, stream)); }

void gemm(const Blas& blas, Trans ta, Trans tb, std::int64_t m, std::int64_t n, std::int64_t k,
          const bf16* a, std::int64_t lda, const bf16* b, std::int64_t ldb, void* c,
          std::int64_t ldc, OutType out, float alpha, float beta) {
  MOEPLAN_REQUIRE(m > 0 && n > 0 && k > 0, "m=", m, " n=", n, " k=", k);
  MOEPLAN_REQUIRE(m < (1LL << 31) && n < (1LL << 31) && k < (1LL << 31), "m=", m, " n=", n,
                  " k=", k);
  // Stored row widths: A is (m, k) if not transposed else (k, m); likewise B.
  const std::int64_t a_cols = ta == Trans::kNo ? k : m;
  const std::int64_t b_cols = tb == Trans::kNo ? n : k;
  MOEPLAN_REQUIRE(lda >= a_cols, "lda=", lda, " < ", a_cols);
  MOEPLAN_REQUIRE(ldb >= b_cols, "ldb=", ldb, " < ", b_cols);
  MOEPLAN_REQUIRE(ldc >= n, "ldc=", ldc, " < n=", n);
  const cublasOperation_t op_a = ta == Trans::kNo ? CUBLAS_OP_N : CUBLAS_OP_T;
  const cublasOperation_t op_b = tb == Trans::kNo ? CUBLAS_OP_N : CUBLAS_OP_T;
  const cudaDataType_t c_type = out == OutType::kBf16 ? CUDA_R_16BF : CUDA_R_32F;
  // Column-major view: Cᵀ (n, m) = op(B)ᵀ (n, k) · op(A)ᵀ (k, m).
  CUBLAS_CHECK(cublasGemmEx(blas.handle(), op_b, op_a, static_cast<int>(n), static_cast<int>(m),
                            static_cast<int>(k), &alpha, b, CUDA_R_16BF, static_cast<int>(ldb), a,
                            CUDA_R_16BF, static_cast<int>(lda), &beta, c, c_type,
                            static_cast<int>(ldc), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

void linear_forward(const Blas& blas, const bf16* x, const bf16* w, void* y, OutType out,
                    std::int64_t n_rows, std::int64_t in, std::int64_t out_features,
                    bool accumulate) {
  gemm(blas, Trans::kNo, Trans::kYes, n_rows, out_features, in, x, in, w, in, y, out_features, out,
       1.0f, accumulate ? 1.0f : 0.0f);
}

void linear_backward_input(const Blas& blas, const bf16* dy, const bf16* w, void* dx, OutType out,
                           std::int64_t n_rows, std::int64_t in, std::int64_t out_features,
                           bool accumulate) {
  gemm(blas, Trans::kNo, Trans::kNo, n_rows, in, out_features, dy, out_features, w, in, dx, in, out,
       1.0f, accumulate ? 1.0f : 0.0f);
}

void linear_backward_weight(const Blas& blas, const bf16* dy, const bf16* x, float* dw,
                            std::int64_t n_rows, std::int64_t in, std::int64_t out_features) {
  gemm(blas, Trans::kYes, Trans::kNo, out_features, in, n_rows, dy, out_features, x, in, dw, in,
       OutType::kFp32, 1.0f, 1.0f);
}

}  // namespace moeplan::cuda
