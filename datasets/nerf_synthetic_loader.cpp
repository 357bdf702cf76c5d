// NeRF-synthetic (Blender) and D-NeRF scenes: transforms_{train,val,test}.json with one
// horizontal field of view (camera_angle_x) and per-frame camera→world matrices in OpenGL axes;
// D-NeRF adds a per-frame `time`. The image size comes from the images themselves.
#include <cmath>
#include <filesystem>

#include "core/errors.h"
#include "datasets/host_image_reader.h"
#include "datasets/json_fields.h"
#include "datasets/scene_source.h"

namespace gs {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kPi = 3.14159265358979323846;

namespace {

// A frame's name: its file_path without a leading "./" (unique within a split).
std::string frame_name(const std::string& file_path) {
  std::string s = file_path;
  while (s.rfind("./", 0) == 0) s = s.substr(2);
  return s;
}

struct Split {
  std::vector<SourceView> views;
  bool has_time = false;
};

Split read_split(const std::string& file, const std::string& root, const DatasetOptions& options,
                 bool require_time) {
  const json j = read_json_file(file);
  if (!j.is_object())
    throw_field_error(file, "(top level)", "expected an object with camera_angle_x and frames",
                      "see docs/datasets.md");
  const double angle_x = json_number(j, "camera_angle_x", file, "");
  if (!(angle_x > 0 && angle_x < kPi))
    throw_field_error(file, "camera_angle_x",
                      "must be in (0, pi) radians, got " + std::to_string(angle_x),
                      "camera_angle_x is the horizontal field of view in radians");
  const auto angle_y = json_optional_number(j, "camera_angle_y", file, "");
  const auto frames_it = j.find("frames");
  if (frames_it == j.end() || !frames_it->is_array())
    throw_field_error(file, "frames", "missing or not an array", "list the views under \"frames\"");
  if (frames_it->empty())
    throw_field_error(file, "frames", "no views (the array is empty)",
                      "list the views under \"frames\"");

  std::vector<SourceView> views;
  int with_time = 0;
  for (size_t i = 0; i < frames_it->size(); ++i) {
    const json& f = (*frames_it)[i];
    const std::string field = "frames[" + std::to_string(i) + "]";
    SourceView sv;
    const std::string file_path = json_string(f, "file_path", file, field);
    sv.view.image_path = resolve_image_path(root, file_path, file, field + ".file_path");
    sv.view.name = frame_name(file_path);
    sv.view.camera.name = sv.view.name;
    set_pose_from_opengl_c2w(sv.view.camera, json_matrix4(f, "transform_matrix", file, field), file,
                             field + ".transform_matrix");
    if (const auto t = json_optional_number(f, "time", file, field)) {
      sv.view.time = static_cast<float>(*t);
      ++with_time;
    } else if (require_time) {
      throw_field_error(file, field + ".time", "missing (D-NeRF needs a time per frame)",
                        "add \"time\" in [0, 1] to every frame, or load as format nerf");
    }
    views.push_back(std::move(sv));
  }
  if (with_time != 0 && with_time != static_cast<int>(views.size())) {
    size_t i = 0;
    while (i < frames_it->size() && (*frames_it)[i].contains("time")) ++i;
    throw_field_error(file, "frames[" + std::to_string(i) + "].time",
                      "missing while other frames have one", "give every frame a time, or none");
  }

  // One field of view for the whole split, so its first image fixes the size of all of them.
  const HostImage first = decode_host_image(views[0].view.image_path, options.background);
  const int w = first.width, h = first.height;
  const double fx = 0.5 * w / std::tan(0.5 * angle_x);
  const double fy = angle_y ? 0.5 * h / std::tan(0.5 * *angle_y) : fx;
  for (auto& sv : views) {
    Camera& c = sv.view.camera;
    c.width = w;
    c.height = h;
    c.fx = static_cast<float>(fx);
    c.fy = static_cast<float>(fy);
    c.cx = 0.5f * w;
    c.cy = 0.5f * h;
    sv.size_source = "the first image of " + file + " (" + views[0].view.image_path + ")";
  }
  return {std::move(views), with_time != 0};
}

}  // namespace

SceneSource load_nerf_synthetic(const std::string& root, const DatasetOptions& options,
                                bool require_time) {
  const fs::path dir(root);
  const std::string train_file = (dir / "transforms_train.json").string();
  std::error_code ec;
  if (!fs::is_regular_file(train_file, ec))
    throw IoError(train_file + ": not found",
                  "a NeRF-synthetic/D-NeRF scene has transforms_train.json (and usually "
                  "transforms_test.json) in its folder");
  SceneSource src;
  Split train = read_split(train_file, root, options, require_time);
  src.train = std::move(train.views);
  src.has_time = train.has_time;
  // The held-out split: test if given, else val (NeRF's own convention), else every Nth view.
  for (const char* name : {"transforms_test.json", "transforms_val.json"}) {
    const std::string file = (dir / name).string();
    if (!fs::is_regular_file(file, ec)) continue;
    // A dynamic scene needs times in every split, so require them once train has them.
    Split test = read_split(file, root, options, require_time || train.has_time);
    if (test.has_time && !train.has_time)
      throw_field_error(train_file, "frames[0].time", "missing while " + file + " has times",
                        "give every frame of every split a time, or none");
    src.test = std::move(test.views);
    src.split_given = true;
    break;
  }
  src.format = src.has_time ? "dnerf" : "nerf";
  src.object_in_unit_cube = true;
  // graphdeco's convention: a points3d.ply next to the transforms seeds the Gaussians (the
  // generated scenes write one); without it the loader falls back to random points.
  const fs::path points = dir / "points3d.ply";
  if (fs::is_regular_file(points, ec)) src.ply_hint = points.string();
  return src;
}

}  // namespace gs
