// Parallel image loading for load_dataset(). Decoding dominates load time, and files are
// independent, so a few plain threads pull indices from a counter.
#include "datasets/view_images.h"

#include <cstdlib>

#include "core/errors.h"
#include "core/parallel_map.h"
#include "datasets/host_image_reader.h"

namespace gs {
namespace {

std::string size_text(int w, int h) {
  return std::to_string(w) + "x" + std::to_string(h);
}

void check_file_size(const ImageRequest& r, const HostImage& img) {
  if (r.file_downscale <= 1) {
    if (img.width == r.native_width && img.height == r.native_height) return;
    throw IoError(r.path + ": image is " + size_text(img.width, img.height) + " but " +
                      r.size_source + " says " + size_text(r.native_width, r.native_height),
                  "every image must have the size its camera describes; re-export the images "
                  "or fix the calibration");
  }
  const double ew = double(r.native_width) / r.file_downscale;
  const double eh = double(r.native_height) / r.file_downscale;
  if (std::abs(img.width - ew) <= 1.0 && std::abs(img.height - eh) <= 1.0) return;
  throw IoError(r.path + ": image is " + size_text(img.width, img.height) + " but a copy " +
                    "downscaled " + std::to_string(r.file_downscale) + "x of " + r.size_source +
                    " (" + size_text(r.native_width, r.native_height) + ") should be about " +
                    size_text(int(ew + 0.5), int(eh + 0.5)),
                "regenerate the images_" + std::to_string(r.file_downscale) +
                    "/ folder, or delete it to resize from images/");
}

HostImage read_one(const ImageRequest& r, const std::array<float, 3>& background) {
  HostImage img = decode_host_image(r.path, background);
  check_file_size(r, img);
  resize_host_image(img, r.out_width, r.out_height);
  undistort_image(img, r.fx, r.fy, r.cx, r.cy, r.distortion);
  return img;
}

}  // namespace

std::vector<HostImage> read_view_images(const std::vector<ImageRequest>& requests,
                                        const std::array<float, 3>& background) {
  return parallel_map<HostImage>(requests.size(),
                                 [&](size_t i) { return read_one(requests[i], background); });
}

}  // namespace gs
