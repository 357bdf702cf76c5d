// Sky and dynamic-object masks of a street scene: optional 8-bit PNGs next to the images,
// brought to the view's resolution and lens model so that mask pixel (i, j) covers image pixel
// (i, j).
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "core/errors.h"
#include "core/parallel_map.h"
#include "datasets/image_codec.h"
#include "datasets/street_files.h"
#include "datasets/undistort.h"

namespace gs {
namespace fs = std::filesystem;

namespace {

// One mask file and what its view needs: the camera's native size, the output size, and the
// intrinsics and distortion at the output size.
struct MaskRequest {
  std::string path;
  int native_width = 0, native_height = 0;
  int out_width = 0, out_height = 0;
  double fx = 0, fy = 0, cx = 0, cy = 0;
  std::vector<double> distortion;
};

std::string size_text(int w, int h) {
  return std::to_string(w) + "x" + std::to_string(h);
}

// Binary masks survive resampling as 0/255 only if they are re-thresholded afterwards.
constexpr uint8_t kMaskThreshold = 128;

void threshold(std::vector<uint8_t>& values) {
  for (uint8_t& v : values) v = v >= kMaskThreshold ? 255 : 0;
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw IoError(path + ": cannot open the mask for reading", "check file permissions");
  std::vector<char> bytes(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  if (bytes.empty() || !in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    throw IoError(path + ": cannot read the mask file (empty or unreadable)",
                  "re-export the mask, or delete it (masks are optional)");
  return bytes;
}

// The file's first channel, thresholded; 16-bit files at the same fraction of full scale.
HostMask decode_mask(const std::string& path) {
  const std::vector<char> bytes = read_bytes(path);
  DecodedImage m;
  std::string reason;
  if (!decode_image(bytes.data(), bytes.size(), m, reason))
    throw IoError(path + ": cannot decode the mask (" + reason + ")",
                  "masks are 8-bit PNGs; re-export it, or delete it (masks are optional)");
  HostMask mask;
  mask.width = m.width;
  mask.height = m.height;
  const size_t n = static_cast<size_t>(m.width) * m.height;
  mask.values.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const bool on = m.bits == 16 ? m.data16()[i * m.channels] >= kMaskThreshold * 257
                                 : m.data8()[i * m.channels] >= kMaskThreshold;
    mask.values[i] = on ? 255 : 0;
  }
  return mask;
}

void resize_nearest(HostMask& mask, int width, int height) {
  if (mask.width == width && mask.height == height) return;
  const cv::Mat src(mask.height, mask.width, CV_8UC1, mask.values.data());
  cv::Mat dst;
  cv::resize(src, dst, cv::Size(width, height), 0, 0, cv::INTER_NEAREST);
  mask.width = width;
  mask.height = height;
  mask.values.assign(dst.data, dst.data + static_cast<size_t>(width) * height);
}

// The images' undistortion (datasets/undistort.h) on a grey copy, then re-thresholded, so
// masks and images share one lens model and one pixel-centre convention.
void undistort_mask(HostMask& mask, const MaskRequest& r) {
  LensDistortion distortion{r.distortion};
  if (distortion.none()) return;
  HostImage grey;
  grey.width = mask.width;
  grey.height = mask.height;
  grey.rgb.resize(mask.values.size() * 3);
  for (size_t i = 0; i < mask.values.size(); ++i)
    grey.rgb[3 * i] = grey.rgb[3 * i + 1] = grey.rgb[3 * i + 2] = mask.values[i];
  undistort_image(grey, r.fx, r.fy, r.cx, r.cy, distortion);
  for (size_t i = 0; i < mask.values.size(); ++i) mask.values[i] = grey.rgb[3 * i];
  threshold(mask.values);
}

HostMask read_one(const MaskRequest& r) {
  std::error_code ec;
  if (!fs::exists(r.path, ec)) return {};
  HostMask mask = decode_mask(r.path);
  const bool native = mask.width == r.native_width && mask.height == r.native_height;
  const bool output = mask.width == r.out_width && mask.height == r.out_height;
  if (!native && !output)
    throw IoError(r.path + ": mask is " + size_text(mask.width, mask.height) +
                      " but the camera's images are " + size_text(r.native_width, r.native_height) +
                      " (loaded at " + size_text(r.out_width, r.out_height) + ")",
                  "a mask has the size of its image (or of the loaded, downscaled view)");
  resize_nearest(mask, r.out_width, r.out_height);
  undistort_mask(mask, r);
  return mask;
}

// Threads over files (decoding dominates); the first failing request in list order is the
// error thrown, so errors are deterministic.
std::vector<HostMask> read_masks(const std::vector<MaskRequest>& requests) {
  return parallel_map<HostMask>(requests.size(), [&](size_t i) { return read_one(requests[i]); });
}

// The four optional masks of each view, in the order of StreetFrameMasks' fields.
constexpr const char* kMaskFolders[4] = {"sky_masks", "dynamic_masks/all", "dynamic_masks/human",
                                         "dynamic_masks/vehicle"};

}  // namespace

std::vector<StreetFrameMasks> load_view_masks(const std::string& root,
                                              const std::vector<StreetView>& views,
                                              const std::vector<ImageRequest>& images) {
  std::vector<MaskRequest> requests;
  for (size_t i = 0; i < views.size(); ++i) {
    const std::string stem = fs::path(views[i].view.image_path).stem().string();
    for (const char* folder : kMaskFolders) {
      const ImageRequest& im = images[i];
      MaskRequest r;
      r.path = (fs::path(root) / folder / (stem + ".png")).string();
      r.native_width = im.native_width, r.native_height = im.native_height;
      r.out_width = im.out_width, r.out_height = im.out_height;
      r.fx = im.fx, r.fy = im.fy, r.cx = im.cx, r.cy = im.cy;
      r.distortion = im.distortion.coeffs;
      requests.push_back(std::move(r));
    }
  }
  std::vector<HostMask> masks = read_masks(requests);
  std::vector<StreetFrameMasks> out(views.size());
  for (size_t i = 0; i < views.size(); ++i) {
    out[i].sky = std::move(masks[4 * i]);
    out[i].dynamic_all = std::move(masks[4 * i + 1]);
    out[i].dynamic_human = std::move(masks[4 * i + 2]);
    out[i].dynamic_vehicle = std::move(masks[4 * i + 3]);
  }
  return out;
}

}  // namespace gs
