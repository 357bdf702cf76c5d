// linalg on CUDA: the row-major GEMM through cuBLAS (column-major, so operands are swapped), the
// small ops as kernels on the default stream (where the rest of gstrain launches). Semantics
// match linalg_cpu.cpp exactly as linalg.h documents them; values differ only by rounding.
#include <cublas_v2.h>

#include <memory>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/cuda_check.h"
#include "core/logging.h"
#include "core/parallel_for.h"
#include "deform/linalg.h"

namespace gs {
namespace {

// ---------------------------------------------------------------------------------------------
// cuBLAS errors, in the style of core/cuda_check.h: the call, where, the status name and a hint.

const char* cublas_hint(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "cuBLAS could not initialise: check the CUDA driver and that the GPU is usable "
             "(nvidia-smi), or run with --device cpu";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "the GPU is out of memory: lower the memory budget or the deformation batch";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "a GEMM argument (dimension, leading dimension or workspace) is invalid: this is a "
             "gstrain bug, please report it";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "the GPU lacks a feature this cuBLAS call needs: use a newer GPU or --device cpu";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "a cuBLAS kernel failed to run: an earlier CUDA error may have left the device "
             "unusable";
    default:
      return "";
  }
}

[[noreturn]] void throw_cublas_error(const char* call, cublasStatus_t status, const char* file,
                                     int line) {
  throw Error(std::string(file) + ":" + std::to_string(line) + ": " + call + " failed: " +
                  cublasGetStatusName(status) + " (" + cublasGetStatusString(status) + ")",
              cublas_hint(status));
}

#define GS_CUBLAS_CHECK(call)                                                          \
  do {                                                                                 \
    const cublasStatus_t gs_status_ = (call);                                          \
    if (gs_status_ != CUBLAS_STATUS_SUCCESS)                                           \
      throw_cublas_error(#call, gs_status_, __FILE__, __LINE__);                       \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Per (device ordinal, host thread) state: the cuBLAS handle, its workspace and the scratch of
// the column reduction. Created on first use, destroyed when the thread exits (for the main
// thread: before static objects such as the memory accountant, and before the CUDA runtime's
// atexit teardown).

// cuBLAS's documented default workspace pool is 4 MiB (NVIDIA recommends at least that, and
// 32 MiB on Hopper for peak throughput of large GEMMs). The MLP's GEMMs are tall and skinny
// (n, k ≤ a few hundred), and this is held per thread and device for the whole run under the
// memory budget, so the modest default is enough; ≥ 16 KiB already avoids ALLOC_FAILED.
constexpr size_t kCublasWorkspaceBytes = size_t(4) << 20;

// bias_grad_accumulate reduces each column in at most kMaxRowChunks row chunks (one partial sum
// each) and then sums the partials in chunk order. The chunking depends on the row count only,
// never on the GPU, so the result is the same on every run and every device.
constexpr int kReduceThreads = 256;     // threads per block of the partial-sum kernel
constexpr int kMaxRowChunks = 256;      // partial sums per column
constexpr size_t kMinRowsPerChunk = 64;  // below this, fewer chunks
constexpr int kColsPerPass = 256;       // columns per pass; wider matrices loop
constexpr size_t kReduceScratchBytes = size_t(kMaxRowChunks) * kColsPerPass * sizeof(double);

struct CudaLinalgContext {
  cublasHandle_t handle = nullptr;
  Buffer<uint8_t> workspace;       // cuBLAS's workspace (cublasSetWorkspace)
  Buffer<uint8_t> reduce_scratch;  // kMaxRowChunks × kColsPerPass partial sums (T ≤ double)

  CudaLinalgContext() = default;
  CudaLinalgContext(const CudaLinalgContext&) = delete;
  CudaLinalgContext& operator=(const CudaLinalgContext&) = delete;
  ~CudaLinalgContext() {
    // The handle goes first (members are destroyed after this body), so cuBLAS never sees its
    // workspace freed under it.
    if (handle) {
      const cublasStatus_t status = cublasDestroy(handle);
      if (status != CUBLAS_STATUS_SUCCESS)
        log_error("cublasDestroy failed: ", cublasGetStatusName(status));
    }
  }
};

CudaLinalgContext& linalg_context(const Device& device) {
  // Buffers (and so the workspace) are allocated on the current device, and a cuBLAS handle is
  // bound to the device current at its creation: both must be `device`.
  int current = -1;
  GS_CUDA_CHECK(cudaGetDevice(&current));
  if (current != device.index)
    throw Error("linalg on " + device.name() + " but the current CUDA device is cuda:" +
                    std::to_string(current),
                "select the device (resolve_device) on this thread before using it");

  thread_local std::vector<std::unique_ptr<CudaLinalgContext>> contexts;
  if (size_t(device.index) >= contexts.size()) contexts.resize(size_t(device.index) + 1);
  std::unique_ptr<CudaLinalgContext>& slot = contexts[size_t(device.index)];
  if (slot) return *slot;

  auto ctx = std::make_unique<CudaLinalgContext>();
  // Accounted allocations first: a refusal (BudgetExceeded) then leaves no handle behind.
  ctx->workspace = Buffer<uint8_t>(device, kCublasWorkspaceBytes, MemCategory::mlp);
  ctx->reduce_scratch = Buffer<uint8_t>(device, kReduceScratchBytes, MemCategory::mlp);
  // cublasCreate itself reserves some device resources that no API routes through our
  // allocator; everything a GEMM needs at run time comes from the workspace below.
  GS_CUBLAS_CHECK(cublasCreate(&ctx->handle));
  // The handle keeps the default (NULL) stream, where the rest of gstrain launches, so GEMMs and
  // kernels stay ordered without extra synchronisation. Never call cublasSetStream on it:
  // that silently resets the workspace to cuBLAS's own (unaccounted) pool.
  // cudaMalloc'd memory is 256-byte aligned, as cublasSetWorkspace requires.
  GS_CUBLAS_CHECK(cublasSetWorkspace(ctx->handle, ctx->workspace.data(), ctx->workspace.bytes()));
  // Math mode stays CUBLAS_DEFAULT_MATH: FP32 GEMMs run in full FP32, not TF32 tensor ops
  // (CUBLAS_TF32_TENSOR_OP_MATH), because parity with the CPU backend matters more than speed
  // here. The atomics mode stays CUBLAS_ATOMICS_NOT_ALLOWED, so results are reproducible.
  slot = std::move(ctx);
  return *slot;
}

// ---------------------------------------------------------------------------------------------
// Elementwise kernels (bodies for parallel_for; internal linkage, so no clash with the host TU).

// C[i, j] = beta == 0 ? 0 : beta · C[i, j] over an m × n block with leading dimension ldc.
template <class T>
struct ScaleMatrix {
  T* C;
  size_t n, ldc;
  T beta;
  __device__ void operator()(size_t idx) const {
    T& c = C[(idx / n) * ldc + idx % n];
    c = beta == T(0) ? T(0) : beta * c;
  }
};

template <class T>
struct BiasActivation {
  T* Y;
  const T* bias;
  size_t cols, ldy;
  bool relu;
  __device__ void operator()(size_t idx) const {
    const size_t o = idx % cols;
    T& y = Y[(idx / cols) * ldy + o];
    const T v = y + bias[o];
    y = relu && v < T(0) ? T(0) : v;  // std::max(v, 0) exactly: NaN and −0 pass through
  }
};

template <class T>
struct ReluBackward {
  const T* act;
  T* grad;
  __device__ void operator()(size_t j) const {
    if (!(act[j] > T(0))) grad[j] = T(0);
  }
};

// ---------------------------------------------------------------------------------------------
// Column sums, deterministic: block (bx, by) with bx·by = kReduceThreads, bx a power of two ≥ the
// column count (at most 32, a warp reading consecutive columns of a row), blockIdx.x a group of
// bx columns, blockIdx.y a row chunk. Thread (tx, ty) sums rows begin+ty, begin+ty+by, … in order;
// a fixed tree over ty then gives the chunk's partial sum.
template <class T>
__global__ void column_partial_sums(size_t rows, int cols, const T* G, size_t ldg,
                                    size_t rows_per_chunk, T* partial) {
  __shared__ T sums[kReduceThreads];
  const int bx = int(blockDim.x), by = int(blockDim.y);
  const int tx = int(threadIdx.x), ty = int(threadIdx.y);
  const int col = int(blockIdx.x) * bx + tx;
  const size_t begin = size_t(blockIdx.y) * rows_per_chunk;
  const size_t end = begin + rows_per_chunk < rows ? begin + rows_per_chunk : rows;
  T acc = T(0);
  if (col < cols)
    for (size_t r = begin + size_t(ty); r < end; r += size_t(by)) acc += G[r * ldg + size_t(col)];
  sums[ty * bx + tx] = acc;
  __syncthreads();
  for (int s = by / 2; s > 0; s /= 2) {
    if (ty < s) sums[ty * bx + tx] += sums[(ty + s) * bx + tx];
    __syncthreads();
  }
  if (ty == 0 && col < cols) partial[size_t(blockIdx.y) * size_t(cols) + size_t(col)] = sums[tx];
}

// db[o] += Σ_c partial[c, o] over chunks c in order.
template <class T>
__global__ void column_sums_finish(int chunks, int cols, const T* partial, T* db) {
  const int col = int(blockIdx.x) * int(blockDim.x) + int(threadIdx.x);
  if (col >= cols) return;
  T acc = T(0);
  for (int c = 0; c < chunks; ++c) acc += partial[size_t(c) * size_t(cols) + size_t(col)];
  db[col] += acc;
}

// The two cuBLAS GEMMs behind one name.
cublasStatus_t cublas_gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                           int n, int k, const float* alpha, const float* A, int lda,
                           const float* B, int ldb, const float* beta, float* C, int ldc) {
  return cublasSgemm(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
cublasStatus_t cublas_gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                           int n, int k, const double* alpha, const double* A, int lda,
                           const double* B, int ldb, const double* beta, double* C, int ldc) {
  return cublasDgemm(h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace

static_assert(kCublasWorkspaceBytes + kReduceScratchBytes == kLinalgCudaContextBytes,
              "linalg.h's kLinalgCudaContextBytes must match the context's buffers");

size_t linalg_prepare_cuda(const Device& device) {
  const CudaLinalgContext& ctx = linalg_context(device);
  return ctx.workspace.bytes() + ctx.reduce_scratch.bytes();
}

template <class T>
void gemm_cuda(const Device& device, bool trans_a, bool trans_b, int m, int n, int k, T alpha,
               const T* A, int lda, const T* B, int ldb, T beta, T* C, int ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == T(0)) {
    // C = beta · C, and 0 when beta == 0 even over NaNs (as gemm_cpu). beta == 1 leaves C.
    if (beta != T(1))
      parallel_for(device, size_t(m) * size_t(n),
                   ScaleMatrix<T>{C, size_t(n), size_t(ldc), beta});
    return;
  }
  CudaLinalgContext& ctx = linalg_context(device);
  // Row-major C (m × n, ldc) is column-major Cᵀ (n × m, ldc), and Cᵀ = op(B)ᵀ · op(A)ᵀ. A
  // row-major operand read column-major is its own transpose, so B and A go in with their own
  // transpose flags: cuBLAS's "A" is our B (n × k after op), its "B" is our A (k × m after op).
  // With beta == 0 cuBLAS does not read C ("C does not have to be a valid input"), so NaNs
  // there do not propagate, as linalg.h promises.
  GS_CUBLAS_CHECK(cublas_gemm(ctx.handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                              trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, B, ldb, A, lda,
                              &beta, C, ldc));
}

template <class T>
void bias_activation_cuda(const Device& device, size_t rows, int cols, T* Y, size_t ldy,
                          const T* bias, bool relu) {
  parallel_for(device, rows * size_t(cols), BiasActivation<T>{Y, bias, size_t(cols), ldy, relu});
}

template <class T>
void relu_backward_cuda(const Device& device, size_t count, const T* act, T* grad) {
  parallel_for(device, count, ReluBackward<T>{act, grad});
}

template <class T>
void bias_grad_accumulate_cuda(const Device& device, size_t rows, int cols, const T* G, size_t ldg,
                               T* db) {
  if (rows == 0 || cols <= 0) return;
  static_assert(sizeof(T) <= sizeof(double), "reduce scratch is sized for double");
  CudaLinalgContext& ctx = linalg_context(device);
  T* partial = reinterpret_cast<T*>(ctx.reduce_scratch.data());

  size_t chunks = (rows + kMinRowsPerChunk - 1) / kMinRowsPerChunk;
  if (chunks > size_t(kMaxRowChunks)) chunks = kMaxRowChunks;
  const size_t rows_per_chunk = (rows + chunks - 1) / chunks;
  chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;  // no empty chunk

  for (int col0 = 0; col0 < cols; col0 += kColsPerPass) {
    const int pass_cols = cols - col0 < kColsPerPass ? cols - col0 : kColsPerPass;
    int bx = 1;
    while (bx < pass_cols && bx < 32) bx *= 2;
    const dim3 block(unsigned(bx), unsigned(kReduceThreads / bx));
    const dim3 grid(unsigned((pass_cols + bx - 1) / bx), unsigned(chunks));
    column_partial_sums<T><<<grid, block>>>(rows, pass_cols, G + col0, ldg, rows_per_chunk, partial);
    GS_CUDA_CHECK_LAUNCH();
    column_sums_finish<T><<<unsigned((pass_cols + 255) / 256), 256>>>(int(chunks), pass_cols,
                                                                       partial, db + col0);
    GS_CUDA_CHECK_LAUNCH();
  }
}

#define GS_INSTANTIATE_LINALG_CUDA(T)                                                          \
  template void gemm_cuda<T>(const Device&, bool, bool, int, int, int, T, const T*, int,       \
                             const T*, int, T, T*, int);                                       \
  template void bias_activation_cuda<T>(const Device&, size_t, int, T*, size_t, const T*,      \
                                        bool);                                                 \
  template void relu_backward_cuda<T>(const Device&, size_t, const T*, T*);                    \
  template void bias_grad_accumulate_cuda<T>(const Device&, size_t, int, const T*, size_t, T*);
GS_INSTANTIATE_LINALG_CUDA(float)
GS_INSTANTIATE_LINALG_CUDA(double)
#undef GS_INSTANTIATE_LINALG_CUDA

}  // namespace gs
