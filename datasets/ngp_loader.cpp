// instant-ngp / nerfstudio transforms.json: one file for all views, intrinsics for the whole
// dataset and/or per frame (per-frame values win), OpenCV radial-tangential distortion, and
// camera→world matrices in OpenGL axes like NeRF-synthetic.
#include <cmath>
#include <filesystem>
#include <optional>

#include "core/errors.h"
#include "datasets/host_image_reader.h"
#include "datasets/json_fields.h"
#include "datasets/scene_source.h"

namespace gs {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kPi = 3.14159265358979323846;

// The intrinsic fields ngp allows at the top level and in each frame.
struct NgpIntrinsics {
  std::optional<double> w, h, fl_x, fl_y, angle_x, angle_y, cx, cy, k1, k2, k3, p1, p2;

  void read(const json& o, const std::string& file, const std::string& parent) {
    auto get = [&](std::optional<double>& dst, const char* key) {
      if (auto v = json_optional_number(o, key, file, parent)) dst = v;
    };
    get(w, "w");
    get(h, "h");
    get(fl_x, "fl_x");
    get(fl_y, "fl_y");
    get(angle_x, "camera_angle_x");
    get(angle_y, "camera_angle_y");
    get(cx, "cx");
    get(cy, "cy");
    get(k1, "k1");
    get(k2, "k2");
    get(k3, "k3");
    get(p1, "p1");
    get(p2, "p2");
    // Fisheye lenses need a different undistortion model than the one we apply.
    const auto model = o.find("camera_model");
    if (model != o.end() && model->is_string() && model->get<std::string>() != "OPENCV" &&
        model->get<std::string>() != "PINHOLE" && model->get<std::string>() != "SIMPLE_PINHOLE")
      throw_field_error(file, (parent.empty() ? "" : parent + ".") + "camera_model",
                        "unsupported camera model " + model->dump(),
                        "supported: PINHOLE and OPENCV; undistort fisheye images first "
                        "(e.g. colmap image_undistorter)");
    const auto fisheye = o.find("is_fisheye");
    if (fisheye != o.end() && fisheye->is_boolean() && fisheye->get<bool>())
      throw_field_error(file, (parent.empty() ? "" : parent + ".") + "is_fisheye",
                        "fisheye cameras are not supported",
                        "undistort the images first (e.g. colmap image_undistorter)");
  }
};

}  // namespace

SceneSource load_ngp(const std::string& json_path, const DatasetOptions& options) {
  const std::string& file = json_path;
  const std::string dir = fs::path(json_path).parent_path().string();
  const json j = read_json_file(file);
  if (!j.is_object())
    throw_field_error(file, "(top level)", "expected an object with frames",
                      "see docs/datasets.md");
  NgpIntrinsics global;
  global.read(j, file, "");
  const auto frames_it = j.find("frames");
  if (frames_it == j.end() || !frames_it->is_array())
    throw_field_error(file, "frames", "missing or not an array", "list the views under \"frames\"");
  if (frames_it->empty())
    throw_field_error(file, "frames", "no views (the array is empty)",
                      "list the views under \"frames\"");

  SceneSource src;
  src.format = "ngp";
  if (auto it = j.find("ply_file_path"); it != j.end() && it->is_string())
    src.ply_hint = (fs::path(dir) / it->get<std::string>()).lexically_normal().string();

  std::optional<std::pair<int, int>> first_image_size;  // only read when w/h are not given
  for (size_t i = 0; i < frames_it->size(); ++i) {
    const json& f = (*frames_it)[i];
    const std::string field = "frames[" + std::to_string(i) + "]";
    NgpIntrinsics in = global;
    in.read(f, file, field);

    SourceView sv;
    const std::string file_path = json_string(f, "file_path", file, field);
    sv.view.image_path = resolve_image_path(dir, file_path, file, field + ".file_path");
    sv.view.name = file_path;
    while (sv.view.name.rfind("./", 0) == 0) sv.view.name = sv.view.name.substr(2);
    Camera& c = sv.view.camera;
    c.name = sv.view.name;
    set_pose_from_opengl_c2w(c, json_matrix4(f, "transform_matrix", file, field), file,
                             field + ".transform_matrix");
    if (auto t = json_optional_number(f, "time", file, field)) {
      sv.view.time = static_cast<float>(*t);
      src.has_time = true;
    }

    if (in.w && in.h) {
      c.width = static_cast<int>(std::lround(*in.w));
      c.height = static_cast<int>(std::lround(*in.h));
      sv.size_source = file + " (w, h)";
    } else {
      if (!first_image_size) {
        const HostImage first = decode_host_image(sv.view.image_path, options.background);
        first_image_size = std::make_pair(first.width, first.height);
      }
      c.width = first_image_size->first;
      c.height = first_image_size->second;
      sv.size_source = "the first image of " + file + " (no w, h given)";
    }
    if (c.width <= 0 || c.height <= 0)
      throw_field_error(file, field + ".w", "image size must be positive", "fix w and h");

    double fx;
    if (in.fl_x) {
      fx = *in.fl_x;
    } else if (in.angle_x) {
      if (!(*in.angle_x > 0 && *in.angle_x < kPi))
        throw_field_error(file, field + ".camera_angle_x", "must be in (0, pi) radians",
                          "camera_angle_x is the horizontal field of view in radians");
      fx = 0.5 * c.width / std::tan(0.5 * *in.angle_x);
    } else {
      throw_field_error(file, field + ".fl_x", "no focal length (fl_x or camera_angle_x)",
                        "give fl_x (pixels) or camera_angle_x (radians) at the top level or "
                        "per frame");
    }
    double fy = fx;
    if (in.fl_y)
      fy = *in.fl_y;
    else if (in.angle_y)
      fy = 0.5 * c.height / std::tan(0.5 * *in.angle_y);
    if (!(fx > 0 && fy > 0 && std::isfinite(fx) && std::isfinite(fy)))
      throw_field_error(file, field + ".fl_x", "focal length must be positive",
                        "check fl_x/fl_y or camera_angle_x/y (radians, below pi)");
    c.fx = static_cast<float>(fx);
    c.fy = static_cast<float>(fy);
    c.cx = static_cast<float>(in.cx.value_or(0.5 * c.width));
    c.cy = static_cast<float>(in.cy.value_or(0.5 * c.height));
    sv.distortion.coeffs = {in.k1.value_or(0), in.k2.value_or(0), in.p1.value_or(0),
                            in.p2.value_or(0), in.k3.value_or(0)};
    src.train.push_back(std::move(sv));
  }
  return src;
}

}  // namespace gs
