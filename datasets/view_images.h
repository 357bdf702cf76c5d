// Reading the images of many views in parallel, each checked against the size its calibration
// describes, resized to the training resolution and undistorted.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/undistort.h"

namespace gs {

struct ImageRequest {
  std::string path;
  int native_width = 0, native_height = 0;  // the size the calibration describes
  int file_downscale = 1;   // the file is a copy downscaled by this factor (±1 px of rounding)
  std::string size_source;  // what describes that size, for the mismatch error
  int out_width = 0, out_height = 0;
  double fx = 0, fy = 0, cx = 0, cy = 0;  // intrinsics at the output size (for undistortion)
  LensDistortion distortion;
};

// Reads every request (threads over files); throws the error of the first failing request in
// list order, so errors are deterministic.
std::vector<HostImage> read_view_images(const std::vector<ImageRequest>& requests,
                                        const std::array<float, 3>& background);

}  // namespace gs
