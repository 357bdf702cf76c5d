// The accounting allocator's bookkeeping: every device byte is tagged with a category; current
// and peak bytes are tracked per category and in total, per device kind; an optional cap makes
// an allocation past the budget throw BudgetExceeded *before* anything is allocated.
//
// Buffer<T> (core/buffer.h) is the only client that allocates; it calls reserve()/release()
// around the real allocation, so the numbers here are exactly what buffers hold.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

#include "core/device.h"

namespace gs {

enum class MemCategory : int {
  params = 0,  // Gaussian parameters
  grads,       // their gradients
  optimizer,   // Adam moments
  densify,     // densification statistics
  raster,      // per-view rasterizer transients
  mlp,         // deformation network weights, state and activations
  images,      // dataset images on the device
  other,
  count
};
constexpr int kNumMemCategories = static_cast<int>(MemCategory::count);

const char* to_string(MemCategory c);

struct MemorySnapshot {
  std::array<size_t, kNumMemCategories> current{};
  std::array<size_t, kNumMemCategories> peak{};
  size_t current_total = 0;
  size_t peak_total = 0;
  size_t cap_bytes = 0;  // 0: uncapped
  size_t allocations = 0;
  size_t refused = 0;    // allocations refused by the cap or by the device
};

class MemoryAccountant {
 public:
  // One accountant per device kind: CPU buffers and CUDA buffers are budgeted separately.
  static MemoryAccountant& of(DeviceKind kind);

  // Caps the accounted total at `bytes` (0 removes the cap).
  void set_cap(size_t bytes);
  size_t cap() const;

  // Records an allocation of `bytes`; throws BudgetExceeded (nothing recorded) when it would
  // pass the cap, or DeviceOutOfMemory when a test's fault injector says so.
  void reserve(MemCategory category, size_t bytes);
  // Records a release; never throws.
  void release(MemCategory category, size_t bytes) noexcept;
  // Records that the device refused an allocation after reserve() succeeded (undoes it).
  void refused_by_device(MemCategory category, size_t bytes) noexcept;

  size_t current(MemCategory category) const;
  size_t current_total() const;
  size_t peak(MemCategory category) const;
  size_t peak_total() const;
  // Bytes still allowed under the cap (SIZE_MAX when uncapped).
  size_t headroom() const;
  MemorySnapshot snapshot() const;
  // Starts a new peak window at the current usage.
  void reset_peak();

  // Test hook (LichtFeld-style allocation probe): when set and it returns true for an
  // allocation, reserve() throws DeviceOutOfMemory as if the device had no memory left.
  using FaultInjector = std::function<bool(MemCategory, size_t)>;
  void set_fault_injector(FaultInjector injector);

 private:
  MemoryAccountant() = default;
  mutable std::mutex mutex_;
  MemorySnapshot s_;
  FaultInjector injector_;
};

// Sets the cap for the lifetime of the object and restores the previous one after (tests).
class ScopedMemoryCap {
 public:
  ScopedMemoryCap(DeviceKind kind, size_t cap_bytes);
  ~ScopedMemoryCap();

 private:
  DeviceKind kind_;
  size_t previous_;
};

}  // namespace gs
