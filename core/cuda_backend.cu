// CUDA runtime calls behind core/cuda_backend.h.
#include "core/cuda_backend.h"
#include "core/cuda_check.h"

#include <cstdint>
#include <mutex>
#include <unordered_set>

namespace gs::cuda {

int device_count(std::string* reason) {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    if (reason) *reason = cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return 0;
  }
  if (n == 0 && reason) *reason = "no CUDA device found";
  return n;
}

std::string device_name(int index) {
  cudaDeviceProp prop{};
  GS_CUDA_CHECK(cudaGetDeviceProperties(&prop, index));
  return prop.name;
}

void set_device(int index) { GS_CUDA_CHECK(cudaSetDevice(index)); }

namespace {
// The allocation mode, and the pointers that came from the pool (cudaFreeAsync may only free
// those; cudaFree frees either kind).
struct PoolState {
  std::mutex mutex;
  bool on = false;
  size_t keep_bytes = 0;
  std::unordered_set<void*> pointers;
};
PoolState& pool_state() {
  static PoolState s;
  return s;
}
}  // namespace

void* malloc_device(size_t bytes) {
  PoolState& s = pool_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  void* p = nullptr;
  // Stream 0 is the legacy default stream every kernel and copy of gstrain runs on, so a block
  // freed there is reused only after the work that used it.
  cudaError_t err = s.on ? cudaMallocAsync(&p, bytes, cudaStream_t(0)) : cudaMalloc(&p, bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return nullptr;
  }
  GS_CUDA_CHECK(err);
  if (s.on) {
    try {
      s.pointers.insert(p);
    } catch (...) {  // no host memory for the bookkeeping: give the block back
      cudaFreeAsync(p, cudaStream_t(0));
      throw;
    }
  }
  return p;
}

void free_device(void* ptr) noexcept {
  PoolState& s = pool_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.pointers.erase(ptr) != 0)
    GS_CUDA_CHECK_NOTHROW(cudaFreeAsync(ptr, cudaStream_t(0)));
  else
    GS_CUDA_CHECK_NOTHROW(cudaFree(ptr));
}

namespace {
// The current device's default memory pool, or false when the device has none.
bool default_pool(cudaMemPool_t* pool) {
  int device = 0;
  GS_CUDA_CHECK(cudaGetDevice(&device));
  int supported = 0;
  GS_CUDA_CHECK(cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device));
  if (!supported) return false;
  GS_CUDA_CHECK(cudaDeviceGetDefaultMemPool(pool, device));
  return true;
}
}  // namespace

PoolMode use_stream_ordered_pool(bool on, size_t keep_bytes) {
  PoolState& s = pool_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  cudaMemPool_t pool;
  const bool supported = default_pool(&pool);
  if (on && !supported)
    throw ConfigError("memory.allocator: stream_pool needs a GPU and driver with memory pools",
                      "use memory.allocator: cuda_malloc");
  const PoolMode previous{s.on, s.keep_bytes};
  if (supported) {
    uint64_t threshold = on ? uint64_t(keep_bytes) : 0;  // the attribute is a 64-bit unsigned
    GS_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
    if (!on) {
      GS_CUDA_CHECK(cudaDeviceSynchronize());
      GS_CUDA_CHECK(cudaMemPoolTrimTo(pool, 0));
    }
  }
  s.on = on;
  s.keep_bytes = on ? keep_bytes : 0;
  return previous;
}

size_t stream_pool_reserved_high() {
  cudaMemPool_t pool;
  if (!default_pool(&pool)) return 0;
  uint64_t high = 0, zero = 0;
  GS_CUDA_CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemHigh, &high));
  GS_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReservedMemHigh, &zero));
  return size_t(high);
}

void copy_host_to_device(void* dst, const void* src, size_t bytes) {
  GS_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}
void copy_device_to_host(void* dst, const void* src, size_t bytes) {
  GS_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}
void copy_device_to_device(void* dst, const void* src, size_t bytes) {
  GS_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
}
void memset_device(void* dst, int value, size_t bytes) {
  GS_CUDA_CHECK(cudaMemset(dst, value, bytes));
}
void mem_info(size_t* free_bytes, size_t* total_bytes) {
  GS_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
}
void synchronize() { GS_CUDA_CHECK(cudaDeviceSynchronize()); }

}  // namespace gs::cuda
