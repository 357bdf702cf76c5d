// Undistortion with OpenCV's calib3d: one remap per image, the new camera matrix equal to the
// old one (the result is the PINHOLE camera with the same fx, fy, cx, cy).
#include "datasets/undistort.h"

#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>

namespace gs {

bool LensDistortion::none() const {
  for (double c : coeffs)
    if (c != 0.0) return false;
  return true;
}

void undistort_image(HostImage& image, double fx, double fy, double cx, double cy,
                     const LensDistortion& distortion) {
  if (distortion.none() || image.width == 0 || image.height == 0) return;
  // OpenCV puts pixel centres at integer coordinates, COLMAP (and we) at i + 0.5: shift the
  // principal point by half a pixel, or the distortion centre would be off by that much.
  const cv::Matx33d k(fx, 0, cx - 0.5, 0, fy, cy - 0.5, 0, 0, 1);
  const cv::Mat dist(distortion.coeffs, /*copyData=*/true);
  const cv::Size size(image.width, image.height);
  cv::Mat map_x, map_y;
  cv::initUndistortRectifyMap(k, dist, cv::Mat(), k, size, CV_32FC1, map_x, map_y);
  const cv::Mat src(size, CV_8UC3, image.rgb.data());
  cv::Mat dst;
  // Replicating the edge keeps the few border pixels plausible; a black border would be
  // learned as black geometry.
  cv::remap(src, dst, map_x, map_y, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  std::copy(dst.data, dst.data + image.rgb.size(), image.rgb.begin());
}

}  // namespace gs
