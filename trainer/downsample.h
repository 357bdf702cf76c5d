// Box downsampling of images on their device, for the coarse-to-fine resolution schedule of
// street scenes (drivestudio: ¼ resolution below step 250, ½ below 500).
#pragma once

#include "core/camera.h"
#include "core/device.h"

namespace gs {

// dst (⌊W/s⌋ × ⌊H/s⌋ × channels) = the s×s box mean of src (W × H × channels), on `device`.
void downsample_box(const Device& device, const float* src, int width, int height, int channels,
                    int factor, float* dst);

// The camera of the same view at 1/s the resolution (⌊W/s⌋ × ⌊H/s⌋, intrinsics / s): the pixel
// grid of downsample_box.
Camera downscaled_camera(const Camera& camera, int factor);

}  // namespace gs
