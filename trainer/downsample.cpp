// Box downsampling (see downsample.h).
#include "trainer/downsample.h"

#include "core/errors.h"
#include "trainer/downsample_impl.h"

namespace gs {

#ifdef GSTRAIN_WITH_CUDA
void downsample_box_cuda(const Device& device, const float* src, int width, int channels,
                         int factor, int out_width, int out_height, float* dst);
#endif

void downsample_box(const Device& device, const float* src, int width, int height, int channels,
                    int factor, float* dst) {
  GS_CHECK(factor >= 1 && width >= factor && height >= factor, "downsample: bad factor");
  const int ow = width / factor, oh = height / factor;
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    downsample_box_cuda(device, src, width, channels, factor, ow, oh, dst);
    return;
#else
    throw Error("gstrain was built without CUDA", "use --device cpu");
#endif
  }
  downsample_box_impl(device, src, width, channels, factor, ow, oh, dst);
}

Camera downscaled_camera(const Camera& c, int factor) {
  Camera s = c;
  s.width = c.width / factor;
  s.height = c.height / factor;
  // Output pixel x covers input [x·s, x·s + s): continuous coordinates scale by 1/s exactly.
  s.fx = c.fx / float(factor);
  s.fy = c.fy / float(factor);
  s.cx = c.cx / float(factor);
  s.cy = c.cy / float(factor);
  return s;
}

}  // namespace gs
