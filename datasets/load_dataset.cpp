// load_dataset(): format detection, dispatch to the per-format loader, and the work every
// format shares: train/test split, output resolution and intrinsics, parallel image loading
// with undistortion, scene centre and extent, and initial points.
#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/errors.h"
#include "core/logging.h"
#include "datasets/colmap_reader.h"
#include "datasets/dataset.h"
#include "datasets/init_points.h"
#include "datasets/scene_source.h"
#include "datasets/view_images.h"

namespace gs {
namespace fs = std::filesystem;

namespace {

void check_options(const DatasetOptions& o) {
  const std::string f = o.format;
  if (f != "auto" && f != "nerf" && f != "dnerf" && f != "ngp" && f != "colmap")
    throw ConfigError("data.format: unknown format '" + f + "'",
                      "use auto, nerf, dnerf, ngp or colmap");
  if (o.downscale < 1)
    throw ConfigError("data.downscale: must be >= 1, got " + std::to_string(o.downscale),
                      "1 keeps the native resolution, 2 halves it, …");
  if (o.width < 0 || o.height < 0)
    throw ConfigError("data.width/height: must be >= 0", "0 means: from downscale");
  if (o.test_every < 0)
    throw ConfigError("data.test_every: must be >= 0", "0 keeps every view for training");
  if (o.init_random_points < 0)
    throw ConfigError("init_random_points: must be >= 0", "0 starts without points");
  for (float b : o.background)
    if (!(b >= 0.f && b <= 1.f))
      throw ConfigError("data.background: components must be in [0, 1]", "white is 1 1 1");
}

SceneSource load_source(const std::string& path, const DatasetOptions& o, std::string* root) {
  std::error_code ec;
  const fs::path p(path);
  if (!fs::exists(p, ec))
    throw IoError(path + ": dataset not found", "check data.path (a folder or a transforms JSON)");
  if (fs::is_regular_file(p, ec)) {
    const std::string name = p.filename().string();
    *root = p.parent_path().string();
    if (name == "transforms_train.json" || name == "transforms_test.json" ||
        name == "transforms_val.json")
      return load_nerf_synthetic(*root, o, o.format == "dnerf");
    if (p.extension() == ".json") return load_ngp(path, o);
    throw IoError(path + ": not a dataset description",
                  "pass the dataset folder, or its transforms JSON file");
  }
  *root = path;
  const bool has_nerf = fs::is_regular_file(p / "transforms_train.json", ec);
  const bool has_ngp = fs::is_regular_file(p / "transforms.json", ec);
  std::string format = o.format;
  if (format == "auto") {
    if (has_nerf)
      format = "nerf";
    else if (has_ngp)
      format = "ngp";
    else if (has_colmap_model((p / "sparse/0").string()) ||
             has_colmap_model((p / "sparse").string()) || has_colmap_model(path))
      format = "colmap";
    else
      throw IoError(path +
                        ": no dataset found (no transforms_train.json, transforms.json, or "
                        "COLMAP sparse/0/cameras.{bin,txt})",
                    "point data.path at a NeRF-synthetic, D-NeRF, instant-ngp or COLMAP folder");
  }
  if (format == "nerf" || format == "dnerf") return load_nerf_synthetic(path, o, format == "dnerf");
  if (format == "ngp") {
    if (!has_ngp)
      throw IoError((p / "transforms.json").string() + ": not found",
                    "an instant-ngp scene has transforms.json in its folder");
    return load_ngp((p / "transforms.json").string(), o);
  }
  return load_colmap(path, o);
}

// Holds out views 0, N, 2N, … (3DGS's --eval "llffhold"), keeping at least one for training.
void split_every_nth(SceneSource& src, int every) {
  if (src.split_given || every <= 0 || src.train.size() < 2) return;
  std::vector<SourceView> train;
  for (size_t i = 0; i < src.train.size(); ++i)
    (i % every == 0 ? src.test : train).push_back(std::move(src.train[i]));
  src.train = std::move(train);
}

std::pair<int, int> output_size(int w, int h, const DatasetOptions& o) {
  if (o.width > 0 && o.height > 0) return {o.width, o.height};
  if (o.width > 0) return {o.width, std::max(1, int(std::lround(double(h) * o.width / w)))};
  if (o.height > 0) return {std::max(1, int(std::lround(double(w) * o.height / h))), o.height};
  return {std::max(1, int(std::lround(double(w) / o.downscale))),
          std::max(1, int(std::lround(double(h) / o.downscale)))};
}

// Scales each camera to the output size and describes how to read its image.
std::vector<View> finish_views(std::vector<SourceView>& views, const DatasetOptions& o,
                               std::vector<ImageRequest>& requests) {
  std::vector<View> out;
  out.reserve(views.size());
  for (SourceView& sv : views) {
    Camera& c = sv.view.camera;
    ImageRequest r;
    r.path = sv.view.image_path;
    r.native_width = c.width;
    r.native_height = c.height;
    r.file_downscale = sv.file_downscale;
    r.size_source = sv.size_source;
    const auto [w, h] = output_size(c.width, c.height, o);
    // Pixel centres at i + 0.5 make the image-space scaling exact for the principal point too.
    const double sx = double(w) / c.width, sy = double(h) / c.height;
    c.fx = static_cast<float>(c.fx * sx);
    c.cx = static_cast<float>(c.cx * sx);
    c.fy = static_cast<float>(c.fy * sy);
    c.cy = static_cast<float>(c.cy * sy);
    c.width = w;
    c.height = h;
    r.out_width = w;
    r.out_height = h;
    r.fx = c.fx, r.fy = c.fy, r.cx = c.cx, r.cy = c.cy;
    r.distortion = sv.distortion;
    requests.push_back(std::move(r));
    out.push_back(std::move(sv.view));
  }
  return out;
}

void set_scene_scale(Dataset& d) {
  const size_t n = d.train.size();
  std::array<double, 3> mean{0, 0, 0};
  for (const View& v : d.train) {
    const auto c = camera_center(v.camera);
    for (int k = 0; k < 3; ++k) mean[k] += c[k] / n;
  }
  double radius = 0;
  for (const View& v : d.train) {
    const auto c = camera_center(v.camera);
    radius = std::max(radius, std::sqrt((c[0] - mean[0]) * (c[0] - mean[0]) +
                                        (c[1] - mean[1]) * (c[1] - mean[1]) +
                                        (c[2] - mean[2]) * (c[2] - mean[2])));
  }
  for (int k = 0; k < 3; ++k) d.scene_center[k] = static_cast<float>(mean[k]);
  d.scene_extent = static_cast<float>(radius * 1.1);
  if (!(d.scene_extent > 1e-6f) || !std::isfinite(d.scene_extent)) {
    log_warn(d.root, ": training cameras do not spread out (extent ", d.scene_extent,
             "); using a scene extent of 1");
    d.scene_extent = 1.f;
  }
}

void set_init_points(Dataset& d, SceneSource& src, const DatasetOptions& o) {
  std::error_code ec;
  if (!o.init_ply.empty()) {
    read_ply_points(o.init_ply, d.init_points, d.init_colors);
    d.init_source = o.init_ply;
  } else if (!src.points.empty()) {
    d.init_points = std::move(src.points);
    d.init_colors = std::move(src.colors);
    d.init_source = src.points_source;
  } else if (!src.ply_hint.empty() && fs::is_regular_file(src.ply_hint, ec)) {
    read_ply_points(src.ply_hint, d.init_points, d.init_colors);
    d.init_source = src.ply_hint;
  } else if (o.init_random_points > 0) {
    // NeRF-synthetic objects sit in [-1.3, 1.3]³ (as 3DGS assumes); otherwise the cube the
    // training cameras span around their centre.
    std::array<float, 3> lo{-1.3f, -1.3f, -1.3f}, hi{1.3f, 1.3f, 1.3f};
    if (!src.object_in_unit_cube)
      for (int k = 0; k < 3; ++k) {
        lo[k] = d.scene_center[k] - d.scene_extent;
        hi[k] = d.scene_center[k] + d.scene_extent;
      }
    random_points_in_box(static_cast<size_t>(o.init_random_points), lo, hi, o.seed, d.init_points,
                         d.init_colors);
    d.init_source = "random (" + std::to_string(o.init_random_points) + " points in a box)";
  } else {
    d.init_source = "none";
  }
}

}  // namespace

Dataset load_dataset(const std::string& path, const DatasetOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  check_options(options);
  Dataset d;
  SceneSource src = load_source(path, options, &d.root);
  if (src.train.empty())
    throw IoError(path + ": no views found", "the dataset lists no training images");
  if (options.format == "dnerf" && !src.has_time)
    throw IoError(path + ": format dnerf but the frames have no time",
                  "add \"time\" to every frame, or use format nerf");
  split_every_nth(src, options.test_every);
  d.format = src.format;
  d.has_time = src.has_time;

  std::vector<ImageRequest> train_req, test_req;
  d.train = finish_views(src.train, options, train_req);
  d.test = finish_views(src.test, options, test_req);
  if (options.load_images) {
    d.train_images = read_view_images(train_req, options.background);
    d.test_images = read_view_images(test_req, options.background);
  }
  set_scene_scale(d);
  set_init_points(d, src, options);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Camera& c = d.train[0].camera;
  log_info("loaded ", d.format, " dataset ", d.root, ": ", d.train.size(), " train + ",
           d.test.size(), " test views, ", c.width, "x", c.height, ", ", d.init_points.size() / 3,
           " initial points (", d.init_source, "), extent ", d.scene_extent, ", images ",
           format_bytes(image_bytes(d)), " in host memory, ", seconds, " s");
  return d;
}

size_t image_bytes(const Dataset& dataset) {
  size_t total = 0;
  for (const HostImage& im : dataset.train_images) total += im.bytes();
  for (const HostImage& im : dataset.test_images) total += im.bytes();
  return total;
}

}  // namespace gs
