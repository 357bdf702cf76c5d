// TrainImages (see train_images.h).
#include "trainer/train_images.h"

#include "core/errors.h"
#include "trainer/u8_to_float_impl.h"

namespace gs {

#ifdef GSTRAIN_WITH_CUDA
void u8_to_float_cuda(const Device& device, size_t n, const uint8_t* src, float* dst);
#endif

void u8_to_float_on_device(const Device& device, size_t n, const uint8_t* src, float* dst) {
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    u8_to_float_cuda(device, n, src, dst);
    return;
#else
    throw Error("gstrain was built without CUDA", "use --device cpu");
#endif
  }
  u8_to_float_impl(device, n, src, dst);
}

TrainImages::TrainImages(const Device& device, const std::vector<HostImage>& images,
                         bool cache_on_device)
    : device_(device), images_(&images) {
  if (!cache_on_device || device.is_cpu()) return;  // host memory already is the CPU's memory
  cache_.reserve(images.size());
  for (const HostImage& im : images)
    cache_.push_back(Buffer<uint8_t>::from_host(device, im.rgb, MemCategory::images));
}

void TrainImages::fetch(size_t index, Buffer<float>& target) const {
  const HostImage& im = (*images_)[index];
  GS_CHECK(target.size() == im.rgb.size(), "target buffer does not match the image size");
  if (!cache_.empty()) {
    u8_to_float_on_device(device_, im.rgb.size(), cache_[index].data(), target.data());
    return;
  }
  if (device_.is_cpu()) {
    float* dst = target.data();
    const uint8_t* src = im.rgb.data();
    for (size_t i = 0; i < im.rgb.size(); ++i) dst[i] = float(src[i]) * (1.0f / 255.0f);
    return;
  }
  std::vector<float> staged(im.rgb.size());
  for (size_t i = 0; i < staged.size(); ++i) staged[i] = float(im.rgb[i]) * (1.0f / 255.0f);
  target.upload(staged);
}

}  // namespace gs
