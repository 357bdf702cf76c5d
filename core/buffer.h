// Buffer<T>: a move-only, typed, accounted array on a device. The only way gstrain code holds
// device memory. Allocation goes through the accounting allocator and may throw BudgetExceeded.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "core/device.h"
#include "core/errors.h"
#include "core/raw_memory.h"

namespace gs {

template <class T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Device& device, size_t count, MemCategory category)
      : Buffer(device, count, category, /*zeroed=*/false) {}
  // Allocates and uploads a host vector.
  static Buffer from_host(const Device& device, const std::vector<T>& host, MemCategory category) {
    Buffer b(device, host.size(), category);
    copy_bytes(device, b.data_, Device::cpu(), host.data(), b.bytes());
    return b;
  }
  static Buffer zeros(const Device& device, size_t count, MemCategory category) {
    return Buffer(device, count, category, /*zeroed=*/true);
  }

  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept { swap(o); }
  Buffer& operator=(Buffer&& o) noexcept {
    if (this != &o) {
      reset();
      swap(o);
    }
    return *this;
  }
  ~Buffer() { reset(); }

  void reset() noexcept {
    free_accounted(device_, category_, data_, bytes());
    data_ = nullptr;
    count_ = 0;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }
  bool empty() const { return count_ == 0; }
  const Device& device() const { return device_; }
  MemCategory category() const { return category_; }

  void zero() { zero_bytes(device_, data_, bytes()); }

  std::vector<T> to_host() const {
    std::vector<T> host(count_);
    copy_bytes(Device::cpu(), host.data(), device_, data_, bytes());
    return host;
  }
  // The first `count` elements only.
  std::vector<T> to_host(size_t count) const {
    GS_CHECK(count <= count_, "to_host past the buffer's end");
    std::vector<T> host(count);
    copy_bytes(Device::cpu(), host.data(), device_, data_, count * sizeof(T));
    return host;
  }
  // Overwrites the first host.size() elements.
  void upload_prefix(const std::vector<T>& host) {
    GS_CHECK(host.size() <= count_, "upload past the buffer's end");
    copy_bytes(device_, data_, Device::cpu(), host.data(), host.size() * sizeof(T));
  }
  void upload(const std::vector<T>& host) {
    GS_CHECK(host.size() == count_, "upload size mismatch");
    copy_bytes(device_, data_, Device::cpu(), host.data(), bytes());
  }
  // Copies the first `count` elements of `src` (any device) into this buffer.
  void copy_from(const Buffer& src, size_t count) {
    GS_CHECK(count <= count_ && count <= src.count_, "copy_from out of range");
    copy_bytes(device_, data_, src.device_, src.data_, count * sizeof(T));
  }

  // Host-side element access; only valid for CPU buffers.
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  Buffer(const Device& device, size_t count, MemCategory category, bool zeroed)
      : device_(device), category_(category), count_(count) {
    data_ = static_cast<T*>(allocate_accounted(device, category, bytes(), zeroed));
  }
  void swap(Buffer& o) noexcept {
    std::swap(device_, o.device_);
    std::swap(category_, o.category_);
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
  }

  Device device_ = Device::cpu();
  MemCategory category_ = MemCategory::other;
  T* data_ = nullptr;
  size_t count_ = 0;
};

}  // namespace gs
