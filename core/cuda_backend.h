// The thin host-side interface to the CUDA runtime used by core/ (allocation, copies,
// detection). Implemented in cuda_backend.cu when built with CUDA, and by cuda_backend_stub.cpp
// otherwise (every call throws "built without CUDA", detection says "not built").
#pragma once

#include <cstddef>
#include <string>

namespace gs::cuda {

// Number of usable devices; 0 with `reason` filled when there is none. Never throws.
int device_count(std::string* reason);
std::string device_name(int index);
void set_device(int index);

// Returns nullptr when the device is out of memory; throws gs::Error on other CUDA errors.
void* malloc_device(size_t bytes);
// Frees a pointer from malloc_device, however it was allocated.
void free_device(void* ptr) noexcept;

// Stream-ordered allocation from the current device's default memory pool (cudaMallocAsync on
// the default stream) for the allocations that follow, keeping at most `keep_bytes` reserved
// in the pool after a synchronisation; `false` returns to cudaMalloc, synchronises and trims
// the pool to what is still allocated from it. Pointers are freed the way they were allocated
// whatever the mode is then. Returns the mode it replaced. Use through StreamPoolScope
// (core/device.h).
struct PoolMode {
  bool on = false;
  size_t keep_bytes = 0;
};
PoolMode use_stream_ordered_pool(bool on, size_t keep_bytes);
// The pool's reserved-memory high-water mark since the last call, which resets it.
size_t stream_pool_reserved_high();

void copy_host_to_device(void* dst, const void* src, size_t bytes);
void copy_device_to_host(void* dst, const void* src, size_t bytes);
void copy_device_to_device(void* dst, const void* src, size_t bytes);
void memset_device(void* dst, int value, size_t bytes);
void mem_info(size_t* free_bytes, size_t* total_bytes);
void synchronize();

}  // namespace gs::cuda
