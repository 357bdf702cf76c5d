// Accounted allocation on CPU (aligned heap) and CUDA (cudaMalloc via cuda_backend).
#include "core/raw_memory.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "core/cuda_backend.h"
#include "core/errors.h"

namespace gs {

namespace {
constexpr size_t kAlignment = 64;  // a cache line; also enough for any SIMD load
}

void* allocate_accounted(const Device& device, MemCategory category, size_t bytes, bool zeroed) {
  if (bytes == 0) return nullptr;
  MemoryAccountant& acc = MemoryAccountant::of(device.kind);
  acc.reserve(category, bytes);
  void* p = nullptr;
  if (device.is_cpu()) {
    const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    p = zeroed ? std::calloc(rounded, 1) : std::aligned_alloc(kAlignment, rounded);
  } else {
    p = cuda::malloc_device(bytes);
    if (p && zeroed) cuda::memset_device(p, 0, bytes);
  }
  if (!p) {
    acc.refused_by_device(category, bytes);
    throw DeviceOutOfMemory(to_string(category), bytes);
  }
  return p;
}

void free_accounted(const Device& device, MemCategory category, void* ptr, size_t bytes) noexcept {
  if (!ptr) return;
  if (device.is_cpu())
    std::free(ptr);
  else
    cuda::free_device(ptr);
  MemoryAccountant::of(device.kind).release(category, bytes);
}

void copy_bytes(const Device& dst_device, void* dst, const Device& src_device, const void* src,
                size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu())
    std::memcpy(dst, src, bytes);
  else if (dst_device.is_cuda() && src_device.is_cpu())
    cuda::copy_host_to_device(dst, src, bytes);
  else if (dst_device.is_cpu() && src_device.is_cuda())
    cuda::copy_device_to_host(dst, src, bytes);
  else
    cuda::copy_device_to_device(dst, src, bytes);
}

void zero_bytes(const Device& device, void* ptr, size_t bytes) {
  if (bytes == 0) return;
  if (device.is_cpu())
    std::memset(ptr, 0, bytes);
  else
    cuda::memset_device(ptr, 0, bytes);
}

}  // namespace gs
