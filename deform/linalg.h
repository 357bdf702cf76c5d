// The dense linear algebra the deformation MLP needs, on either device: a row-major GEMM (CPU:
// OpenBLAS; CUDA: cuBLAS) and three small elementwise/reduction ops around it. Everything is
// row-major with explicit leading dimensions so a layer can read a column block of its weight
// matrix (the skip connection) without copying.
//
// T is float or double on the CPU; float or double on CUDA. Pointers live on `device`.
#pragma once

#include <cstddef>

#include "core/device.h"

namespace gs {

// C (m × n, ldc) = alpha · op(A) · op(B) + beta · C, all row-major; op(A) is m × k, op(B) k × n.
// trans_a: A is stored k × m (lda ≥ m), else m × k (lda ≥ k); likewise for B.
// beta == 0 overwrites C (NaNs in C do not propagate).
template <class T>
void gemm(const Device& device, bool trans_a, bool trans_b, int m, int n, int k, T alpha,
          const T* A, int lda, const T* B, int ldb, T beta, T* C, int ldc);

// Y[i, o] = act(Y[i, o] + bias[o]) for i < rows, o < cols; act is ReLU or the identity.
template <class T>
void bias_activation(const Device& device, size_t rows, int cols, T* Y, size_t ldy, const T* bias,
                     bool relu);

// grad[j] = 0 where act[j] ≤ 0 (the ReLU's backward from its output), for j < count.
template <class T>
void relu_backward(const Device& device, size_t count, const T* act, T* grad);

// db[o] += Σ_i G[i, o] over rows i < rows, for o < cols. The sum over rows runs in row order
// per column, so the result does not depend on thread count (CPU).
template <class T>
void bias_grad_accumulate(const Device& device, size_t rows, int cols, const T* G, size_t ldg,
                          T* db);

// What the CUDA backend holds per device and host thread, accounted in MemCategory::mlp: the
// cuBLAS workspace (4 MiB) and the bias-gradient reduction scratch (512 KiB).
constexpr size_t kLinalgCudaContextBytes = (size_t(4) << 20) + (size_t(512) << 10);

// Creates the device's linalg state now (CUDA: cuBLAS handle and workspace) instead of at the
// first GEMM, so a training run allocates it at setup, not mid-run. Returns its accounted
// bytes (0 on the CPU).
size_t linalg_prepare(const Device& device);

// Backend entry points (linalg_cpu.cpp, linalg_cuda.cu); call the functions above instead.
template <class T>
void gemm_cpu(bool trans_a, bool trans_b, int m, int n, int k, T alpha, const T* A, int lda,
              const T* B, int ldb, T beta, T* C, int ldc);
template <class T>
void bias_activation_cpu(size_t rows, int cols, T* Y, size_t ldy, const T* bias, bool relu);
template <class T>
void relu_backward_cpu(size_t count, const T* act, T* grad);
template <class T>
void bias_grad_accumulate_cpu(size_t rows, int cols, const T* G, size_t ldg, T* db);

#ifdef GSTRAIN_WITH_CUDA
size_t linalg_prepare_cuda(const Device& device);
template <class T>
void gemm_cuda(const Device& device, bool trans_a, bool trans_b, int m, int n, int k, T alpha,
               const T* A, int lda, const T* B, int ldb, T beta, T* C, int ldc);
template <class T>
void bias_activation_cuda(const Device& device, size_t rows, int cols, T* Y, size_t ldy,
                          const T* bias, bool relu);
template <class T>
void relu_backward_cuda(const Device& device, size_t count, const T* act, T* grad);
template <class T>
void bias_grad_accumulate_cuda(const Device& device, size_t rows, int cols, const T* G, size_t ldg,
                               T* db);
#endif

}  // namespace gs
