// linalg on the CPU: GEMM through OpenBLAS's CBLAS interface (row-major natively), the small
// ops as OpenMP loops.
#include <cblas.h>

#include <algorithm>
#include <cstdint>

#include "deform/linalg.h"

namespace gs {
namespace {

CBLAS_TRANSPOSE op(bool trans) { return trans ? CblasTrans : CblasNoTrans; }

}  // namespace

template <>
void gemm_cpu<float>(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A,
                     int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  if (k == 0 || alpha == 0.0f) {
    // BLAS leaves C × beta; with beta == 0 we promise an overwrite even over NaNs.
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) C[size_t(i) * ldc + j] = beta == 0.0f ? 0.0f : beta * C[size_t(i) * ldc + j];
    return;
  }
  cblas_sgemm(CblasRowMajor, op(trans_a), op(trans_b), m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <>
void gemm_cpu<double>(bool trans_a, bool trans_b, int m, int n, int k, double alpha,
                      const double* A, int lda, const double* B, int ldb, double beta, double* C,
                      int ldc) {
  if (k == 0 || alpha == 0.0) {
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) C[size_t(i) * ldc + j] = beta == 0.0 ? 0.0 : beta * C[size_t(i) * ldc + j];
    return;
  }
  cblas_dgemm(CblasRowMajor, op(trans_a), op(trans_b), m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <class T>
void bias_activation_cpu(size_t rows, int cols, T* Y, size_t ldy, const T* bias, bool relu) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < static_cast<int64_t>(rows); ++i) {
    T* y = Y + size_t(i) * ldy;
    if (relu)
      for (int o = 0; o < cols; ++o) y[o] = std::max(y[o] + bias[o], T(0));
    else
      for (int o = 0; o < cols; ++o) y[o] += bias[o];
  }
}

template <class T>
void relu_backward_cpu(size_t count, const T* act, T* grad) {
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < static_cast<int64_t>(count); ++j)
    if (!(act[j] > T(0))) grad[j] = T(0);
}

template <class T>
void bias_grad_accumulate_cpu(size_t rows, int cols, const T* G, size_t ldg, T* db) {
#pragma omp parallel for schedule(static)
  for (int o = 0; o < cols; ++o) {
    T acc = T(0);
    for (size_t i = 0; i < rows; ++i) acc += G[i * ldg + o];
    db[o] += acc;
  }
}

template void bias_activation_cpu<float>(size_t, int, float*, size_t, const float*, bool);
template void bias_activation_cpu<double>(size_t, int, double*, size_t, const double*, bool);
template void relu_backward_cpu<float>(size_t, const float*, float*);
template void relu_backward_cpu<double>(size_t, const double*, double*);
template void bias_grad_accumulate_cpu<float>(size_t, int, const float*, size_t, float*);
template void bias_grad_accumulate_cpu<double>(size_t, int, const double*, size_t, double*);

}  // namespace gs
