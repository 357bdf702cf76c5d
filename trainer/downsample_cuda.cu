// CUDA instantiation of the box downsampling.
#include "trainer/downsample_impl.h"

namespace gs {
void downsample_box_cuda(const Device& device, const float* src, int width, int channels,
                         int factor, int out_width, int out_height, float* dst) {
  downsample_box_impl(device, src, width, channels, factor, out_width, out_height, dst);
}
}  // namespace gs
