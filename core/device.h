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

// CUDA buffers allocated from now on come from the device's stream-ordered memory pool, which
// keeps at most `keep_bytes` after a synchronisation (`on`), or from cudaMalloc (`!on`, the
// default). Either way they are accounted and capped alike (memory_accounting.h). No-op on
// the CPU.
void use_stream_ordered_pool(const Device& device, bool on, size_t keep_bytes);

}  // namespace gs
