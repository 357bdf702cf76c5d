// Training images on their way to the device: kept 8-bit in host memory and converted into the
// step's float target buffer, or — when the plan says they fit — cached 8-bit on the device
// (MemCategory::images) and converted there.
#pragma once

#include <cstdint>
#include <vector>

#include "core/buffer.h"
#include "datasets/dataset.h"

namespace gs {

class TrainImages {
 public:
  TrainImages(const Device& device, const std::vector<HostImage>& images, bool cache_on_device);
  bool cached_on_device() const { return !cache_.empty(); }
  size_t size() const { return images_->size(); }
  // Writes image `index` as float RGB in [0, 1] into `target` (H×W×3 on the device).
  void fetch(size_t index, Buffer<float>& target) const;

 private:
  Device device_;
  const std::vector<HostImage>* images_;
  std::vector<Buffer<uint8_t>> cache_;
};

// The conversion kernel (one body for both backends).
void u8_to_float_on_device(const Device& device, size_t n, const uint8_t* src, float* dst);

}  // namespace gs
