// linalg host API: argument checks and dispatch to the CPU (OpenBLAS) or CUDA (cuBLAS) backend.
#include "deform/linalg.h"

#include <string>

#include "core/errors.h"

namespace gs {
namespace {

[[noreturn, maybe_unused]] void no_cuda(const char* what, const Device& device) {
  throw Error(std::string(what) + " on " + device.name() + ": gstrain was built without CUDA",
              "use the CPU device or rebuild with CUDA");
}

}  // namespace

size_t linalg_prepare(const Device& device) {
  if (!device.is_cuda()) return 0;
#ifdef GSTRAIN_WITH_CUDA
  return linalg_prepare_cuda(device);
#else
  no_cuda("linalg_prepare", device);
#endif
}

template <class T>
void gemm(const Device& device, bool trans_a, bool trans_b, int m, int n, int k, T alpha,
          const T* A, int lda, const T* B, int ldb, T beta, T* C, int ldc) {
  GS_CHECK(m >= 0 && n >= 0 && k >= 0, "gemm: negative dimension");
  if (m == 0 || n == 0) return;
  GS_CHECK(C != nullptr && ldc >= n, "gemm: C is null or ldc < n");
  if (k > 0) {
    GS_CHECK(A && B, "gemm: null A or B");
    GS_CHECK(lda >= (trans_a ? m : k) && ldb >= (trans_b ? k : n), "gemm: leading dimension too small");
  }
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    gemm_cuda<T>(device, trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
#else
    no_cuda("gemm", device);
#endif
  }
  gemm_cpu<T>(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <class T>
void bias_activation(const Device& device, size_t rows, int cols, T* Y, size_t ldy, const T* bias,
                     bool relu) {
  if (rows == 0 || cols == 0) return;
  GS_CHECK(Y && bias && ldy >= size_t(cols), "bias_activation: null pointer or ldy < cols");
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    bias_activation_cuda<T>(device, rows, cols, Y, ldy, bias, relu);
    return;
#else
    no_cuda("bias_activation", device);
#endif
  }
  bias_activation_cpu<T>(rows, cols, Y, ldy, bias, relu);
}

template <class T>
void relu_backward(const Device& device, size_t count, const T* act, T* grad) {
  if (count == 0) return;
  GS_CHECK(act && grad, "relu_backward: null pointer");
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    relu_backward_cuda<T>(device, count, act, grad);
    return;
#else
    no_cuda("relu_backward", device);
#endif
  }
  relu_backward_cpu<T>(count, act, grad);
}

template <class T>
void bias_grad_accumulate(const Device& device, size_t rows, int cols, const T* G, size_t ldg,
                          T* db) {
  if (rows == 0 || cols == 0) return;
  GS_CHECK(G && db && ldg >= size_t(cols), "bias_grad_accumulate: null pointer or ldg < cols");
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    bias_grad_accumulate_cuda<T>(device, rows, cols, G, ldg, db);
    return;
#else
    no_cuda("bias_grad_accumulate", device);
#endif
  }
  bias_grad_accumulate_cpu<T>(rows, cols, G, ldg, db);
}

#define GS_INSTANTIATE_LINALG(T)                                                                \
  template void gemm<T>(const Device&, bool, bool, int, int, int, T, const T*, int, const T*,   \
                        int, T, T*, int);                                                       \
  template void bias_activation<T>(const Device&, size_t, int, T*, size_t, const T*, bool);     \
  template void relu_backward<T>(const Device&, size_t, const T*, T*);                          \
  template void bias_grad_accumulate<T>(const Device&, size_t, int, const T*, size_t, T*);
GS_INSTANTIATE_LINALG(float)
GS_INSTANTIATE_LINALG(double)
#undef GS_INSTANTIATE_LINALG

}  // namespace gs
