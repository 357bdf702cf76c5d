// Accounting allocator bookkeeping (see memory_accounting.h).
#include "core/memory_accounting.h"

#include <algorithm>
#include <cstdint>

#include "core/errors.h"

namespace gs {

const char* to_string(MemCategory c) {
  switch (c) {
    case MemCategory::params: return "params";
    case MemCategory::grads: return "grads";
    case MemCategory::optimizer: return "optimizer";
    case MemCategory::densify: return "densify";
    case MemCategory::raster: return "raster";
    case MemCategory::mlp: return "mlp";
    case MemCategory::images: return "images";
    case MemCategory::other: return "other";
    case MemCategory::count: break;
  }
  return "?";
}

MemoryAccountant& MemoryAccountant::of(DeviceKind kind) {
  static MemoryAccountant cpu, cuda;
  return kind == DeviceKind::CUDA ? cuda : cpu;
}

void MemoryAccountant::set_cap(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  s_.cap_bytes = bytes;
}

size_t MemoryAccountant::cap() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_.cap_bytes;
}

void MemoryAccountant::reserve(MemCategory category, size_t bytes) {
  FaultInjector injector;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (s_.cap_bytes != 0 && s_.current_total + bytes > s_.cap_bytes) {
      ++s_.refused;
      throw BudgetExceeded(to_string(category), bytes, s_.current_total, s_.cap_bytes);
    }
    injector = injector_;
  }
  // The injector runs outside the lock so it may inspect the accountant.
  if (injector && injector(category, bytes)) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++s_.refused;
    throw DeviceOutOfMemory(to_string(category), bytes);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const int c = static_cast<int>(category);
  s_.current[c] += bytes;
  s_.current_total += bytes;
  s_.peak[c] = std::max(s_.peak[c], s_.current[c]);
  s_.peak_total = std::max(s_.peak_total, s_.current_total);
  ++s_.allocations;
}

void MemoryAccountant::release(MemCategory category, size_t bytes) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  const int c = static_cast<int>(category);
  s_.current[c] -= std::min(bytes, s_.current[c]);
  s_.current_total -= std::min(bytes, s_.current_total);
}

void MemoryAccountant::refused_by_device(MemCategory category, size_t bytes) noexcept {
  release(category, bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  ++s_.refused;
  if (s_.allocations > 0) --s_.allocations;  // counted by reserve(), never made
}

size_t MemoryAccountant::current(MemCategory category) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_.current[static_cast<int>(category)];
}
size_t MemoryAccountant::current_total() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_.current_total;
}
size_t MemoryAccountant::peak(MemCategory category) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_.peak[static_cast<int>(category)];
}
size_t MemoryAccountant::peak_total() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_.peak_total;
}
size_t MemoryAccountant::headroom() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (s_.cap_bytes == 0) return SIZE_MAX;
  return s_.cap_bytes > s_.current_total ? s_.cap_bytes - s_.current_total : 0;
}
MemorySnapshot MemoryAccountant::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return s_;
}
void MemoryAccountant::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  s_.peak = s_.current;
  s_.peak_total = s_.current_total;
}
void MemoryAccountant::set_fault_injector(FaultInjector injector) {
  std::lock_guard<std::mutex> lock(mutex_);
  injector_ = std::move(injector);
}

ScopedMemoryCap::ScopedMemoryCap(DeviceKind kind, size_t cap_bytes)
    : kind_(kind), previous_(MemoryAccountant::of(kind).cap()) {
  MemoryAccountant::of(kind).set_cap(cap_bytes);
}
ScopedMemoryCap::~ScopedMemoryCap() { MemoryAccountant::of(kind_).set_cap(previous_); }

}  // namespace gs
