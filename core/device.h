// Compute devices (CPU or a CUDA GPU) and their detection.
// Host code names devices with this type only; no CUDA type leaks past core/.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace gs {

enum class DeviceKind { CPU = 0, CUDA = 1 };

struct Device {
  DeviceKind kind = DeviceKind::CPU;
  int index = 0;

  static Device cpu() { return {DeviceKind::CPU, 0}; }
  static Device cuda(int index = 0) { return {DeviceKind::CUDA, index}; }
  bool is_cpu() const { return kind == DeviceKind::CPU; }
  bool is_cuda() const { return kind == DeviceKind::CUDA; }
  std::string name() const;
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

// True when gstrain was built with CUDA support (nvcc found at configure time).
bool built_with_cuda();

// True when a usable CUDA device is present. Without one (no driver, "CUDA driver version is
// insufficient", no GPU) this returns false and stores why in `reason`; it never throws.
// The result is cached.
bool cuda_available(std::string* reason = nullptr);

// Parses "auto" | "cpu" | "cuda" | "cuda:N". "auto" picks CUDA when available, otherwise the
// CPU, and says so once in the log. An explicit "cuda" without a usable GPU throws gs::Error.
Device resolve_device(const std::string& spec);

struct DeviceMemoryInfo {
  size_t free_bytes = 0;
  size_t total_bytes = 0;
};
// Free/total memory of a CUDA device; std::nullopt for the CPU.
std::optional<DeviceMemoryInfo> device_memory_info(const Device& device);

// Waits for queued device work to finish (no-op on the CPU).
void synchronize(const Device& device);

// For its lifetime, CUDA buffers allocated on `device` come from the device's stream-ordered
// memory pool, which keeps at most `keep_bytes` after a synchronisation; cudaMalloc otherwise
// (the default). Either way they are accounted and capped alike (memory_accounting.h). On
// destruction the previous mode returns and the pool is trimmed after a synchronisation, so
// declare the scope before the buffers it serves: what they held goes back to the device only
// if they are freed first. Throws, changing nothing, on a GPU without memory pools. No-op on
// the CPU.
class StreamPoolScope {
 public:
  StreamPoolScope(const Device& device, size_t keep_bytes);
  ~StreamPoolScope();
  StreamPoolScope(const StreamPoolScope&) = delete;
  StreamPoolScope& operator=(const StreamPoolScope&) = delete;

 private:
  Device device_;
  bool previous_on_ = false;  // the mode it replaced, restored on destruction
  size_t previous_keep_bytes_ = 0;
};

// Bytes the device's stream-ordered pool has held at most since the last call (0 on the CPU or
// when the pool was never used); the high-water mark restarts at what it holds now.
size_t stream_pool_reserved_high(const Device& device);

}  // namespace gs
