// Removing lens distortion from images at load time, so that the rasterizer only ever sees
// pinhole cameras (DESIGN.md §3). The output keeps the size and the intrinsics of the input.
#pragma once

#include <vector>

#include "datasets/dataset.h"

namespace gs {

// OpenCV (Brown–Conrady) coefficients in OpenCV's order: k1 k2 p1 p2 [k3 [k4 k5 k6]]. They act
// on normalised image coordinates, so they do not change when an image is resized.
struct LensDistortion {
  std::vector<double> coeffs;
  bool none() const;  // empty or all zero
};

// Resamples `image` (bilinear) so that it is the pinhole image of the same camera
// (fx, fy, cx, cy in pixels, pixel centres at i + 0.5). Pixels whose source falls outside the
// image repeat the nearest edge pixel. A no-op when `distortion` is none.
void undistort_image(HostImage& image, double fx, double fy, double cx, double cy,
                     const LensDistortion& distortion);

}  // namespace gs
