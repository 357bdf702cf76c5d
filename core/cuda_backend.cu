// CUDA runtime calls behind core/cuda_backend.h.
#include "core/cuda_backend.h"
#include "core/cuda_check.h"

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

void* malloc_device(size_t bytes) {
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return nullptr;
  }
  GS_CUDA_CHECK(err);
  return p;
}

void free_device(void* ptr) noexcept { GS_CUDA_CHECK_NOTHROW(cudaFree(ptr)); }

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
