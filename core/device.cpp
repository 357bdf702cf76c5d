// Device naming, detection (cached, never throwing) and parsing of --device.
#include "core/device.h"

#include <mutex>

#include "core/cuda_backend.h"
#include "core/errors.h"
#include "core/logging.h"

namespace gs {

std::string Device::name() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

bool built_with_cuda() {
#ifdef GSTRAIN_WITH_CUDA
  return true;
#else
  return false;
#endif
}

bool cuda_available(std::string* reason) {
  static std::once_flag once;
  static int count = 0;
  static std::string why;
  std::call_once(once, [] { count = cuda::device_count(&why); });
  if (reason) *reason = why;
  return count > 0;
}

Device resolve_device(const std::string& spec) {
  if (spec == "cpu") return Device::cpu();
  if (spec == "auto") {
    std::string why;
    if (cuda_available(&why)) return Device::cuda(0);
    static std::once_flag said;
    std::call_once(said, [&] { log_info("no usable CUDA device (", why, "): running on the CPU"); });
    return Device::cpu();
  }
  if (spec.rfind("cuda", 0) == 0) {
    int index = 0;
    if (spec.size() > 4) {
      if (spec[4] != ':' || spec.size() == 5)
        throw Error("bad device '" + spec + "'", "use auto, cpu, cuda or cuda:N");
      try {
        index = std::stoi(spec.substr(5));
      } catch (...) {
        throw Error("bad device '" + spec + "'", "use auto, cpu, cuda or cuda:N");
      }
    }
    std::string why;
    if (!cuda_available(&why))
      throw Error("device '" + spec + "' requested but no usable CUDA device: " + why,
                  "use --device cpu (or auto)");
    std::string none;
    if (index < 0 || index >= cuda::device_count(&none))
      throw Error("device '" + spec + "' does not exist", "use cuda:0 .. cuda:N-1");
    cuda::set_device(index);
    return Device::cuda(index);
  }
  throw Error("bad device '" + spec + "'", "use auto, cpu, cuda or cuda:N");
}

std::optional<DeviceMemoryInfo> device_memory_info(const Device& device) {
  if (device.is_cpu()) return std::nullopt;
  DeviceMemoryInfo info;
  cuda::mem_info(&info.free_bytes, &info.total_bytes);
  return info;
}

void synchronize(const Device& device) {
  if (device.is_cuda()) cuda::synchronize();
}

StreamPoolScope::StreamPoolScope(const Device& device, size_t keep_bytes) : device_(device) {
  if (!device_.is_cuda()) return;
  const cuda::PoolMode previous = cuda::use_stream_ordered_pool(true, keep_bytes);
  previous_on_ = previous.on;
  previous_keep_bytes_ = previous.keep_bytes;
}

StreamPoolScope::~StreamPoolScope() {
  if (!device_.is_cuda()) return;
  try {
    cuda::use_stream_ordered_pool(previous_on_, previous_keep_bytes_);
  } catch (const std::exception& e) {  // a destructor must not throw (a CUDA error unwinding)
    log_warn("memory: could not leave the stream-ordered pool: ", e.what());
  }
}

size_t stream_pool_reserved_high(const Device& device) {
  return device.is_cuda() ? cuda::stream_pool_reserved_high() : 0;
}

}  // namespace gs
