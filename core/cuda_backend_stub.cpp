// Stand-in for cuda_backend.cu in builds without CUDA: detection reports "not built with CUDA",
// every other call throws.
#include "core/cuda_backend.h"
#include "core/errors.h"

namespace gs::cuda {
namespace {
[[noreturn]] void no_cuda() {
  throw Error("this gstrain was built without CUDA",
              "rebuild with nvcc installed (cmake -DGSTRAIN_CUDA=ON) or use --device cpu");
}
}  // namespace

int device_count(std::string* reason) {
  if (reason) *reason = "gstrain was built without CUDA";
  return 0;
}
std::string device_name(int) { no_cuda(); }
void set_device(int) { no_cuda(); }
void* malloc_device(size_t) { no_cuda(); }
void free_device(void*) noexcept {}
void copy_host_to_device(void*, const void*, size_t) { no_cuda(); }
void copy_device_to_host(void*, const void*, size_t) { no_cuda(); }
void copy_device_to_device(void*, const void*, size_t) { no_cuda(); }
void memset_device(void*, int, size_t) { no_cuda(); }
void mem_info(size_t*, size_t*) { no_cuda(); }
PoolMode use_stream_ordered_pool(bool, size_t) { no_cuda(); }
size_t stream_pool_reserved_high() { return 0; }
void synchronize() { no_cuda(); }

}  // namespace gs::cuda
