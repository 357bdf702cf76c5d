// Reading dataset images into 8-bit host RGB: decode, composite alpha on a background, resize.
#pragma once

#include <array>
#include <string>

#include "datasets/dataset.h"

namespace gs {

// Decodes a PNG/JPEG (or anything else stb_image reads; grey, grey+alpha, RGB or RGBA, 8- or
// 16-bit) into 8-bit RGB, compositing straight alpha on `background` (RGB in [0, 1]).
// EXIF orientation is ignored, as COLMAP and NeRF tools do, so pixels match the calibration.
// Throws gs::IoError naming the file when it is missing, empty or cannot be decoded.
HostImage decode_host_image(const std::string& path, const std::array<float, 3>& background);

// Resizes with area averaging (cv::INTER_AREA), the right filter for downscaling.
void resize_host_image(HostImage& image, int width, int height);

}  // namespace gs
