// COLMAP scenes: a sparse model (sparse/0/, sparse/ or the folder itself) and images/ (or a
// pre-downscaled images_N/). COLMAP poses are world→camera in OpenCV axes already; distorted
// camera models are turned into pinhole cameras plus distortion, removed when images load.
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/errors.h"
#include "core/logging.h"
#include "datasets/colmap_reader.h"
#include "datasets/scene_source.h"

namespace gs {
namespace fs = std::filesystem;

namespace {

std::string find_model_dir(const std::string& root) {
  for (const char* sub : {"sparse/0", "sparse", "."}) {
    const std::string dir = (fs::path(root) / sub).lexically_normal().string();
    if (has_colmap_model(dir)) return dir;
  }
  throw IoError(root +
                    ": no COLMAP model (looked for sparse/0/, sparse/ and the folder itself "
                    "for cameras.bin or cameras.txt)",
                "run COLMAP's mapper, or pass the folder that contains sparse/0/");
}

// Pinhole intrinsics and OpenCV distortion from a COLMAP camera.
void set_intrinsics(SourceView& sv, const ColmapCamera& cam, const std::string& file) {
  Camera& c = sv.view.camera;
  const std::vector<double>& p = cam.params;
  c.width = cam.width;
  c.height = cam.height;
  double fx, fy, cx, cy;
  std::vector<double> dist;
  switch (cam.model_id) {
    case 0: fx = fy = p[0], cx = p[1], cy = p[2]; break;                          // SIMPLE_PINHOLE
    case 1: fx = p[0], fy = p[1], cx = p[2], cy = p[3]; break;                    // PINHOLE
    case 2: fx = fy = p[0], cx = p[1], cy = p[2], dist = {p[3], 0, 0, 0}; break;  // SIMPLE_RADIAL
    case 3: fx = fy = p[0], cx = p[1], cy = p[2], dist = {p[3], p[4], 0, 0}; break;  // RADIAL
    case 4:  // OPENCV: fx fy cx cy k1 k2 p1 p2
      fx = p[0], fy = p[1], cx = p[2], cy = p[3], dist = {p[4], p[5], p[6], p[7]};
      break;
    case 6:  // FULL_OPENCV: … k1 k2 p1 p2 k3 k4 k5 k6, OpenCV's rational model order
      fx = p[0], fy = p[1], cx = p[2], cy = p[3], dist.assign(p.begin() + 4, p.end());
      break;
    default:
      throw IoError(file + ": camera_id " + std::to_string(cam.id) + " uses camera model " +
                        cam.model + " (model id " + std::to_string(cam.model_id) +
                        "), which gstrain does not support",
                    "supported: SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, RADIAL, OPENCV, "
                    "FULL_OPENCV; run colmap image_undistorter to get PINHOLE cameras");
  }
  if (!(fx > 0 && fy > 0))
    throw IoError(
        file + ": camera_id " + std::to_string(cam.id) + ": focal length must be positive",
        "the model is corrupt: re-run COLMAP");
  c.fx = static_cast<float>(fx);
  c.fy = static_cast<float>(fy);
  c.cx = static_cast<float>(cx);
  c.cy = static_cast<float>(cy);
  sv.distortion.coeffs = std::move(dist);
}

void set_pose(Camera& c, const ColmapImage& im, const std::string& file) {
  const auto& q = im.qvec;
  const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  if (!(n > 1e-12) || !std::isfinite(n))
    throw IoError(file + ": image '" + im.name + "' (image_id " + std::to_string(im.id) +
                      "): qvec is not a valid quaternion",
                  "the model is corrupt: re-run COLMAP");
  const double w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
  const double r[9] = {1 - 2 * (y * y + z * z), 2 * (x * y - w * z),     2 * (x * z + w * y),
                       2 * (x * y + w * z),     1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                       2 * (x * z - w * y),     2 * (y * z + w * x),     1 - 2 * (x * x + y * y)};
  float* m = c.world_to_camera;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) m[i * 4 + j] = static_cast<float>(r[i * 3 + j]);
    m[i * 4 + 3] = static_cast<float>(im.tvec[i]);
  }
  m[12] = m[13] = m[14] = 0;
  m[15] = 1;
}

// The folder to read images from: images_N/ when the requested downscale has a complete copy.
std::pair<std::string, int> choose_image_dir(const std::string& root, const ColmapModel& model,
                                             const DatasetOptions& options) {
  const std::string full = (fs::path(root) / "images").string();
  const int n = options.downscale;
  if ((n == 2 || n == 4 || n == 8) && options.width == 0 && options.height == 0) {
    const fs::path scaled = fs::path(root) / ("images_" + std::to_string(n));
    std::error_code ec;
    if (fs::is_directory(scaled, ec)) {
      const bool complete = std::all_of(
          model.images.begin(), model.images.end(),
          [&](const ColmapImage& im) { return fs::is_regular_file(scaled / im.name, ec); });
      if (complete) return {scaled.string(), n};
      log_warn(scaled.string(), " lacks some registered images; resizing from ", full, " instead");
    }
  }
  return {full, 1};
}

}  // namespace

SceneSource load_colmap(const std::string& root, const DatasetOptions& options) {
  const std::string model_dir = find_model_dir(root);
  ColmapModel model = read_colmap_model(model_dir);
  if (model.images.empty())
    throw IoError(model.images_file + ": no registered images (no views)",
                  "COLMAP registered no images: re-run the mapper with more overlap");
  const auto [image_dir, file_downscale] = choose_image_dir(root, model, options);

  // Sorted by name like 3DGS, so "every Nth view" holds out the same views as its --eval.
  std::sort(model.images.begin(), model.images.end(),
            [](const ColmapImage& a, const ColmapImage& b) { return a.name < b.name; });
  SceneSource src;
  src.format = "colmap";
  for (const ColmapImage& im : model.images) {
    const auto cam = model.cameras.find(im.camera_id);
    if (cam == model.cameras.end())
      throw IoError(model.images_file + ": image '" + im.name + "' (image_id " +
                        std::to_string(im.id) + ") uses camera_id " + std::to_string(im.camera_id) +
                        ", which is not in " + model.cameras_file,
                    "the model is inconsistent: re-export it from COLMAP");
    SourceView sv;
    sv.view.name = im.name;
    sv.view.camera.name = im.name;
    sv.view.image_path = (fs::path(image_dir) / im.name).string();
    std::error_code ec;
    if (!fs::is_regular_file(sv.view.image_path, ec))
      throw IoError(sv.view.image_path + ": image not found (named by " + model.images_file +
                        ", image_id " + std::to_string(im.id) + ")",
                    "COLMAP image names are relative to the images/ folder next to sparse/");
    set_intrinsics(sv, cam->second, model.cameras_file);
    set_pose(sv.view.camera, im, model.images_file);
    sv.file_downscale = file_downscale;
    sv.size_source = model.cameras_file + " (camera_id " + std::to_string(im.camera_id) + ")";
    src.train.push_back(std::move(sv));
  }
  src.points.reserve(model.points.size() * 3);
  src.colors.reserve(model.points.size() * 3);
  for (const ColmapPoint& p : model.points)
    for (int k = 0; k < 3; ++k) {
      src.points.push_back(static_cast<float>(p.xyz[k]));
      src.colors.push_back(p.rgb[k] / 255.f);
    }
  if (!model.points_file.empty()) src.points_source = model.points_file;
  return src;
}

}  // namespace gs
