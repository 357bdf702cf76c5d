// Raw, accounted allocation and copies on a device. Only Buffer<T> should call these.
#pragma once

#include <cstddef>

#include "core/device.h"
#include "core/memory_accounting.h"

namespace gs {

// Reserves `bytes` with the accountant (may throw BudgetExceeded), then allocates them on the
// device (throws DeviceOutOfMemory when the device refuses). Returns nullptr for 0 bytes.
// `zeroed`: the memory reads as zeros. On the CPU this uses calloc, whose large blocks are
// fresh pages the OS commits only when touched: a model allocated at capacity costs host RAM for
// the rows in use, not for the whole capacity.
void* allocate_accounted(const Device& device, MemCategory category, size_t bytes,
                         bool zeroed = false);
void free_accounted(const Device& device, MemCategory category, void* ptr, size_t bytes) noexcept;

// Copies between any two devices (host pointers are DeviceKind::CPU).
void copy_bytes(const Device& dst_device, void* dst, const Device& src_device, const void* src,
                size_t bytes);
void zero_bytes(const Device& device, void* ptr, size_t bytes);

}  // namespace gs
