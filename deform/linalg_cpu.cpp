// linalg on the CPU: GEMM through OpenBLAS's CBLAS interface (row-major natively) with the
// output split over OpenMP threads, the small ops as OpenMP loops.
#include <cblas.h>

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <vector>

#include "deform/linalg.h"

namespace gs {
// OpenBLAS's own threads busy-wait between calls and fight the OpenMP threads of everything
// else in the process (and other processes): a 4×32 MLP ran 10× slower than single-threaded.
// So OpenBLAS runs single-threaded and gemm_cpu splits the output over the OpenMP team itself.
extern "C" void openblas_set_num_threads(int num_threads);

namespace {

CBLAS_TRANSPOSE op(bool trans) { return trans ? CblasTrans : CblasNoTrans; }

void blas(bool ta, bool tb, int m, int n, int k, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, op(ta), op(tb), m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
void blas(bool ta, bool tb, int m, int n, int k, double alpha, const double* A, int lda,
          const double* B, int ldb, double beta, double* C, int ldc) {
  cblas_dgemm(CblasRowMajor, op(ta), op(tb), m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <class T>
void gemm_threaded(bool ta, bool tb, int m, int n, int k, T alpha, const T* A, int lda, const T* B,
                   int ldb, T beta, T* C, int ldc) {
  static std::once_flag single_threaded_blas;
  std::call_once(single_threaded_blas, [] {
    // An OpenMP build of OpenBLAS also sets the process's OpenMP thread count: put it back.
    const int omp_threads = omp_get_max_threads();
    openblas_set_num_threads(1);
    omp_set_num_threads(omp_threads);
  });
  if (k == 0 || alpha == T(0)) {
    // BLAS leaves C × beta; with beta == 0 we promise an overwrite even over NaNs.
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) C[size_t(i) * ldc + j] = beta == T(0) ? T(0) : beta * C[size_t(i) * ldc + j];
    return;
  }
  const int threads = omp_get_max_threads();
  constexpr double kMinFlopsPerThread = 4e6;  // below this, one thread is faster
  if (threads <= 1 || 2.0 * m * n * k < kMinFlopsPerThread * 2) {
    blas(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  // Slabs of the longer output side, multiples of 16 rows/columns (whole BLAS micro-tiles).
  const bool split_m = m >= n;
  const int extent = split_m ? m : n;
#pragma omp parallel
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int per = ((extent + nt - 1) / nt + 15) / 16 * 16;
    const int lo = std::min(extent, t * per), hi = std::min(extent, lo + per);
    if (hi > lo) {
      if (split_m) {
        // Rows lo..hi of op(A): A's rows (no transpose) or columns (transposed).
        const T* a = ta ? A + lo : A + size_t(lo) * lda;
        blas(ta, tb, hi - lo, n, k, alpha, a, lda, B, ldb, beta, C + size_t(lo) * ldc, ldc);
      } else {
        // Columns lo..hi of op(B): B's columns (no transpose) or rows (transposed).
        const T* b = tb ? B + size_t(lo) * ldb : B + lo;
        blas(ta, tb, m, hi - lo, k, alpha, A, lda, b, ldb, beta, C + lo, ldc);
      }
    }
  }
}

}  // namespace

template <>
void gemm_cpu<float>(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A,
                     int lda, const float* B, int ldb, float beta, float* C, int ldc) {
  gemm_threaded<float>(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <>
void gemm_cpu<double>(bool trans_a, bool trans_b, int m, int n, int k, double alpha,
                      const double* A, int lda, const double* B, int ldb, double beta, double* C,
                      int ldc) {
  gemm_threaded<double>(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
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
  // Each thread owns a block of columns and walks the rows in order (contiguous reads; the
  // sum per column is in row order whatever the thread count).
#pragma omp parallel
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int per = (cols + nt - 1) / nt;
    const int lo = std::min(cols, t * per), hi = std::min(cols, lo + per);
    if (hi > lo) {
      std::vector<T> acc(size_t(hi - lo), T(0));
      for (size_t i = 0; i < rows; ++i) {
        const T* g = G + i * ldg + lo;
        for (int o = 0; o < hi - lo; ++o) acc[o] += g[o];
      }
      for (int o = lo; o < hi; ++o) db[o] += acc[o - lo];
    }
  }
}

template void bias_activation_cpu<float>(size_t, int, float*, size_t, const float*, bool);
template void bias_activation_cpu<double>(size_t, int, double*, size_t, const double*, bool);
template void relu_backward_cpu<float>(size_t, const float*, float*);
template void relu_backward_cpu<double>(size_t, const double*, double*);
template void bias_grad_accumulate_cpu<float>(size_t, int, const float*, size_t, float*);
template void bias_grad_accumulate_cpu<double>(size_t, int, const double*, size_t, double*);

}  // namespace gs
