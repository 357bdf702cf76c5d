// gsgen --kind street: options, presets and validation, and the writer of drivestudio's
// processed Waymo layout (docs/street_format.md). Frames are independent: each renders its
// cameras and LiDAR sweep and writes its files, in parallel over frames; only the instance
// tables wait for all of them.
#include "datasets/street_generator.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "datasets/image_codec.h"
#include "datasets/street_builder.h"
#include "core/quat_math.h"
#include "deform/skeleton.h"

namespace gs {
namespace fs = std::filesystem;
using synth::Mat4;

namespace {

// ---- Files ----

void write_file_atomically(const fs::path& path, const void* bytes, size_t size) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw IoError(path.string() + ": cannot open " + tmp.string() + " for writing",
                    "check that the output folder is writable");
    out.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(size));
    out.flush();
    if (!out) {
      out.close();
      std::error_code ec;
      fs::remove(tmp, ec);
      throw IoError(path.string() + ": writing failed (disk full?)", "free disk space");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw IoError(path.string() + ": cannot rename " + tmp.string() +
                  " into place: " + ec.message());
  }
}

void write_text(const fs::path& path, const std::string& text) {
  write_file_atomically(path, text.data(), text.size());
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

// A 4×4 matrix as four whitespace-separated rows (numpy.savetxt's layout).
std::string matrix_text(const Mat4& m) {
  std::string s;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) s += format_number(m.m[r * 4 + c]) + (c == 3 ? "\n" : " ");
  return s;
}

nlohmann::ordered_json matrix_json(const Mat4& m) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (int r = 0; r < 4; ++r) {
    nlohmann::ordered_json row = nlohmann::ordered_json::array();
    for (int c = 0; c < 4; ++c) row.push_back(static_cast<double>(m.m[r * 4 + c]));
    rows.push_back(row);
  }
  return rows;
}

std::string frame_name(int frame) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%03d", frame);
  return buf;
}

void write_png_mask(const fs::path& path, const std::vector<uint8_t>& mask, int width, int height) {
  const std::vector<uint8_t> png = encode_png(mask.data(), width, height, 1);
  if (png.empty()) throw IoError(path.string() + ": PNG encoding failed");
  write_file_atomically(path, png.data(), png.size());
}

// Frame files of an earlier, longer run ("{t:03d}..." with t ≥ frames) would make the folder
// look longer than it is; they are removed. Nothing else in the folder is touched.
void remove_stale_frames(const fs::path& dir, int frames) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 4 || !std::isdigit(static_cast<unsigned char>(name[0])) ||
        !std::isdigit(static_cast<unsigned char>(name[1])) ||
        !std::isdigit(static_cast<unsigned char>(name[2])) || (name[3] != '.' && name[3] != '_'))
      continue;
    if (std::stoi(name.substr(0, 3)) >= frames) fs::remove(entry.path(), ec);
  }
}

// ---- One frame ----

struct FrameOutput {
  std::vector<uint8_t> present;  // per actor: annotated in this frame (annotated_actors)
};

struct SceneWriter {
  const StreetGeneratorOptions& options;
  const synth::StreetWorld& world;
  const std::vector<synth::StreetCamera>& cameras;
  fs::path root;

  FrameOutput write_frame(int frame) const {
    const double seconds = frame / synth::kStreetFrameHz;
    const Mat4 vehicle_to_road = world.ego_to_road(seconds);
    std::vector<synth::Mesh> storage;
    const std::vector<synth::MeshInstance> instances =
        synth::street_instances(world, seconds, storage);
    write_text(root / "ego_pose" / (frame_name(frame) + ".txt"),
               matrix_text(road_to_world() * vehicle_to_road));

    std::vector<int> label_hits;  // LiDAR returns and camera pixels per renderer label
    const std::vector<float> sweep =
        synth::cast_lidar_sweep(instances, world.scene.textures, vehicle_to_road,
                                options.lidar_beams, options.lidar_azimuths, label_hits);
    write_file_atomically(root / "lidar" / (frame_name(frame) + ".bin"), sweep.data(),
                          sweep.size() * sizeof(float));

    synth::MeshRenderOptions ro;
    ro.supersample = options.supersample;
    std::vector<Camera> views;
    std::vector<synth::MeshRenderResult> renders;
    for (const synth::StreetCamera& cam : cameras) {
      views.push_back(synth::street_render_camera(cam, vehicle_to_road));
      renders.push_back(synth::render_meshes(instances, world.scene.textures, views.back(), ro));
      for (int32_t label : renders.back().label) {
        if (label >= static_cast<int>(label_hits.size()))
          label_hits.resize(static_cast<size_t>(label) + 1, 0);
        ++label_hits[static_cast<size_t>(label)];
      }
    }
    FrameOutput out;
    out.present = annotated_actors(vehicle_to_road, seconds, label_hits);
    for (size_t c = 0; c < cameras.size(); ++c)
      write_images(frame_name(frame) + "_" + std::to_string(cameras[c].id), renders[c], views[c],
                   out.present);
    return out;
  }

  // Like Waymo's LiDAR labels: an actor is annotated in a frame when its box centre is within
  // the LiDAR's range of the sensor and some LiDAR return or camera pixel sees it.
  std::vector<uint8_t> annotated_actors(const Mat4& vehicle_to_road, double seconds,
                                        const std::vector<int>& label_hits) const {
    const synth::Vec3 sensor = vehicle_to_road.transform_point(synth::kLidarSensorInVehicle);
    std::vector<uint8_t> present(world.actors.size(), 0);
    for (size_t k = 0; k < world.actors.size(); ++k) {
      const size_t label = static_cast<size_t>(synth::kFirstActorLabel) + k;
      const Mat4 box = world.actors[k].box_to_road(seconds);
      const synth::Vec3 d = synth::Vec3{box.m[3], box.m[7], box.m[11]} - sensor;
      present[k] = label < label_hits.size() && label_hits[label] > 0 &&
                   dot(d, d) <= synth::kLidarMaxRange * synth::kLidarMaxRange;
    }
    return present;
  }

  // The image and its masks. Dynamic masks are the silhouettes of the annotated actors moving
  // faster than drivestudio's 1 m/s threshold (drivestudio draws their projected boxes).
  void write_images(const std::string& stem, const synth::MeshRenderResult& r, const Camera& view,
                    const std::vector<uint8_t>& present) const {
    const std::vector<uint8_t> rgb = synth::composite_over_sky(r, view);
    const std::vector<uint8_t> jpg =
        encode_jpeg(rgb.data(), r.width, r.height, 3, options.jpeg_quality);
    if (jpg.empty())
      throw IoError((root / "images" / (stem + ".jpg")).string() + ": JPEG encoding failed");
    write_file_atomically(root / "images" / (stem + ".jpg"), jpg.data(), jpg.size());

    const size_t pixels = static_cast<size_t>(r.width) * r.height;
    std::vector<uint8_t> sky(pixels), all(pixels, 0), human(pixels, 0), vehicle(pixels, 0);
    for (size_t p = 0; p < pixels; ++p) {
      sky[p] = r.rgba[p * 4 + 3] < 0.5f ? 255 : 0;
      const int k = r.label[p] - synth::kFirstActorLabel;
      if (k < 0 || !present[static_cast<size_t>(k)]) continue;
      const synth::StreetActor& a = world.actors[static_cast<size_t>(k)];
      if (a.speed <= synth::kMovingSpeed) continue;
      all[p] = 255;
      (a.vehicle ? vehicle : human)[p] = 255;
    }
    write_png_mask(root / "sky_masks" / (stem + ".png"), sky, r.width, r.height);
    write_png_mask(root / "dynamic_masks" / "all" / (stem + ".png"), all, r.width, r.height);
    write_png_mask(root / "dynamic_masks" / "human" / (stem + ".png"), human, r.width, r.height);
    write_png_mask(root / "dynamic_masks" / "vehicle" / (stem + ".png"), vehicle, r.width,
                   r.height);
  }

  // Road → world: the pose files are in the world frame.
  Mat4 road_to_world() const {
    Mat4 m;
    std::memcpy(m.m, world.layout.road_to_world.data(), sizeof(m.m));
    return m;
  }
};

// A (w, x, y, z) quaternion as JSON.
nlohmann::ordered_json quat_json(const double q[4]) { return {q[0], q[1], q[2], q[3]}; }

// The rotation about the template's x axis (the body's left) by `angle`.
nlohmann::ordered_json about_left(double angle) {
  const double q[4] = {std::cos(angle / 2), std::sin(angle / 2), 0, 0};
  return quat_json(q);
}

// humanpose/poses.json (docs/humanpose_format.md) for the walkers, posing the procedural body
// template (deform/skeleton.h: SMPL axes, y up, x left, z forward) like the rendered walker.
void write_human_poses(const fs::path& root, const synth::StreetWorld& world,
                       const std::vector<FrameOutput>& frames, const Mat4& road_to_world,
                       const std::vector<int>& file_id, int unposed) {
  // Template axes → walker root axes (x forward, y left, z up): x_w = z_t, y_w = x_t, z_w = y_t.
  const double kTemplateToWalker[9] = {0, 0, 1, 1, 0, 0, 0, 1, 0};
  nlohmann::ordered_json humans = nlohmann::ordered_json::array();
  size_t walkers = 0;
  for (const synth::StreetActor& a : world.actors) walkers += a.walker ? 1 : 0;
  size_t walker = 0;
  for (size_t k = 0; k < world.actors.size(); ++k) {
    const synth::StreetActor& a = world.actors[k];
    if (!a.walker) continue;
    if (walker++ + size_t(unposed) >= walkers || file_id[k] < 0) continue;
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (size_t f = 0; f < frames.size(); ++f) {
      if (!frames[f].present[k]) continue;
      const synth::WalkerPose p = a.walker(static_cast<double>(f) / synth::kStreetFrameHz);
      const Mat4 root_to_world = road_to_world * p.root_to_road;
      double r[9];  // R_root · kTemplateToWalker
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
          double v = 0;
          for (int m = 0; m < 3; ++m) v += double(root_to_world.m[4 * i + m]) * kTemplateToWalker[3 * m + j];
          r[3 * i + j] = v;
        }
      double q[4];
      rmath::rotation_to_quat(r, q);
      // SMPL's convention: pelvis world = R J0 + (J0 + transl − J0) ⇒ transl = root + R J0 − J0.
      nlohmann::ordered_json transl = nlohmann::ordered_json::array();
      for (int i = 0; i < 3; ++i) {
        double v = double(root_to_world.m[4 * i + 3]) - kProceduralPelvis[size_t(i)];
        for (int m = 0; m < 3; ++m) v += r[3 * i + m] * kProceduralPelvis[size_t(m)];
        transl.push_back(v);
      }
      nlohmann::ordered_json body = nlohmann::ordered_json::array();
      const double identity[4] = {1, 0, 0, 0};
      for (int j = 1; j < kSkeletonJoints; ++j) {
        // SMPL's left joints are 1, 4, 16 (side 0); the right ones follow each.
        const int side = (j == 1 || j == 4 || j == 16) ? 0 : (j == 2 || j == 5 || j == 17) ? 1 : -1;
        if (side < 0) body.push_back(quat_json(identity));
        else if (j <= 2) body.push_back(about_left(-p.hip[side]));
        else if (j <= 5) body.push_back(about_left(p.knee[side]));
        else body.push_back(about_left(-p.shoulder[side]));
      }
      list.push_back({{"frame_idx", static_cast<int>(f)},
                      {"global_orient", quat_json(q)},
                      {"transl", transl},
                      {"body_pose", body}});
    }
    humans.push_back({{"instance_id", file_id[k]}, {"frames", list}});
  }
  if (humans.empty()) return;
  nlohmann::ordered_json doc = {{"format", "gstrain-humanpose"},
                                {"version", 1},
                                {"joint_count", kSkeletonJoints},
                                {"rotation", "quaternion_wxyz"},
                                {"template", "procedural"},
                                {"humans", humans}};
  fs::create_directories(root / "humanpose");
  write_text(root / "humanpose" / "poses.json", doc.dump() + "\n");
}

// instances_info.json and frame_instances.json. Actors never seen are left out and the ids
// renumbered densely in actor order, as drivestudio's preprocessing does.
void write_instances(const fs::path& root, const synth::StreetWorld& world,
                     const std::vector<FrameOutput>& frames, const Mat4& road_to_world,
                     int unposed_people) {
  nlohmann::ordered_json info = nlohmann::ordered_json::object();
  nlohmann::ordered_json per_frame = nlohmann::ordered_json::object();
  std::vector<int> file_id(world.actors.size(), -1);
  int next_id = 0;
  for (size_t k = 0; k < world.actors.size(); ++k) {
    const synth::StreetActor& a = world.actors[k];
    nlohmann::ordered_json idx = nlohmann::ordered_json::array(),
                           poses = nlohmann::ordered_json::array(),
                           sizes = nlohmann::ordered_json::array();
    for (size_t f = 0; f < frames.size(); ++f) {
      if (!frames[f].present[k]) continue;
      idx.push_back(static_cast<int>(f));
      poses.push_back(matrix_json(road_to_world *
                                  a.box_to_road(static_cast<double>(f) / synth::kStreetFrameHz)));
      sizes.push_back({static_cast<double>(a.box_size.x), static_cast<double>(a.box_size.y),
                       static_cast<double>(a.box_size.z)});
    }
    if (idx.empty()) continue;
    file_id[k] = next_id++;
    info[std::to_string(file_id[k])] = {
        {"id", std::string(a.vehicle ? "gsgen-vehicle-" : "gsgen-pedestrian-") + std::to_string(k)},
        {"class_name", a.vehicle ? "Vehicle" : "Pedestrian"},
        {"frame_annotations", {{"frame_idx", idx}, {"obj_to_world", poses}, {"box_size", sizes}}}};
  }
  for (size_t f = 0; f < frames.size(); ++f) {
    nlohmann::ordered_json ids = nlohmann::ordered_json::array();
    for (size_t k = 0; k < world.actors.size(); ++k)
      if (frames[f].present[k]) ids.push_back(file_id[k]);
    per_frame[std::to_string(f)] = ids;
  }
  write_human_poses(root, world, frames, road_to_world, file_id, unposed_people);
  write_text(root / "instances" / "instances_info.json", info.dump() + "\n");
  write_text(root / "instances" / "frame_instances.json", per_frame.dump() + "\n");
}

void require(bool ok, const std::string& what, const std::string& hint = "") {
  if (!ok) throw ConfigError("street generator: " + what, hint);
}

}  // namespace

StreetGeneratorOptions street_generator_preset(const std::string& size) {
  StreetGeneratorOptions o;
  if (size == "small") return o;
  if (size == "large") {
    o.size = "large";
    o.frames = 60;
    o.width = 960;
    o.height = 640;
    o.lidar_beams = 64;
    o.lidar_azimuths = 1024;
    return o;
  }
  throw ConfigError("street generator: size '" + size + "' is unknown", "use small or large");
}

void validate_street_generator_options(const StreetGeneratorOptions& o) {
  const auto range = [](int lo, int hi, int v) {
    return "must be in " + std::to_string(lo) + ".." + std::to_string(hi) + " (got " +
           std::to_string(v) + ")";
  };
  require(o.size == "small" || o.size == "large", "size '" + o.size + "' is unknown",
          "use small or large");
  require(o.frames >= 2 && o.frames <= 1000, "frames " + range(2, 1000, o.frames));
  require(o.width >= 16 && o.width <= 4096, "width " + range(16, 4096, o.width));
  require(o.height >= 16 && o.height <= 4096, "height " + range(16, 4096, o.height));
  require(!o.cameras.empty() && o.cameras.size() <= 5, "cameras must list 1 to 5 camera ids",
          "Waymo ids: 0 front, 1 front-left, 2 front-right, 3 side-left, 4 side-right");
  for (size_t k = 0; k < o.cameras.size(); ++k) {
    require(o.cameras[k] >= 0 && o.cameras[k] <= 4,
            "cameras: id " + std::to_string(o.cameras[k]) + " is not a Waymo camera id (0..4)");
    require(std::count(o.cameras.begin(), o.cameras.end(), o.cameras[k]) == 1,
            "cameras: id " + std::to_string(o.cameras[k]) + " is listed twice");
  }
  require(o.vehicles >= 0 && o.vehicles <= 5, "vehicles " + range(0, 5, o.vehicles));
  require(o.people >= 0 && o.people <= 3, "people " + range(0, 3, o.people));
  require(o.unposed_people >= 0 && o.unposed_people <= o.people,
          "unposed_people " + range(0, o.people, o.unposed_people));
  require(o.supersample == 1 || o.supersample == 2 || o.supersample == 4,
          "supersample must be 1, 2 or 4 (got " + std::to_string(o.supersample) + ")");
  require(o.lidar_beams >= 1 && o.lidar_beams <= 512,
          "lidar_beams " + range(1, 512, o.lidar_beams));
  require(o.lidar_azimuths >= 8 && o.lidar_azimuths <= 16384 && o.lidar_azimuths % 8 == 0,
          "lidar_azimuths must be a multiple of 8 in 8..16384 (got " +
              std::to_string(o.lidar_azimuths) + ")");
  require(o.jpeg_quality >= 1 && o.jpeg_quality <= 100,
          "jpeg_quality " + range(1, 100, o.jpeg_quality));
}

StreetLayout street_layout(const StreetGeneratorOptions&) {
  // A world that is not the first ego frame (offset, turned and raised), so a loader's re-basing
  // on the first frame is really exercised.
  const Mat4 road_to_world =
      Mat4::translation({37.5f, -21.25f, 4.2f}) * Mat4::rotation({0, 0, 1}, 0.6f);
  StreetLayout layout;
  std::copy(std::begin(road_to_world.m), std::end(road_to_world.m), layout.road_to_world.begin());
  return layout;
}

void generate_street_scene(const std::string& out_dir, const StreetGeneratorOptions& options) {
  validate_street_generator_options(options);
  if (out_dir.empty()) throw ConfigError("street generator: no output directory given");
  const fs::path root(out_dir);
  std::error_code ec;
  if (fs::exists(root, ec) && !fs::is_directory(root, ec))
    throw IoError(out_dir + ": exists and is not a directory", "choose another output path");
  for (const char* sub :
       {"images", "ego_pose", "extrinsics", "intrinsics", "lidar", "sky_masks", "dynamic_masks/all",
        "dynamic_masks/human", "dynamic_masks/vehicle", "instances"}) {
    fs::create_directories(root / sub, ec);
    if (ec)
      throw IoError(out_dir + "/" + sub + ": cannot create the directory: " + ec.message(),
                    "check that the output path is writable");
    remove_stale_frames(root / sub, options.frames);
  }

  const synth::StreetWorld world = synth::build_street_world(options);
  std::vector<synth::StreetCamera> cameras;
  for (int id : options.cameras) {
    cameras.push_back(synth::street_camera(id, options.width, options.height));
    const synth::StreetCamera& c = cameras.back();
    write_text(root / "extrinsics" / (std::to_string(id) + ".txt"),
               matrix_text(c.camera_to_vehicle));
    std::string intrinsics;
    for (double v : {c.fx, c.fy, c.cx, c.cy, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f})
      intrinsics += format_number(v) + "\n";
    write_text(root / "intrinsics" / (std::to_string(id) + ".txt"), intrinsics);
  }

  const SceneWriter writer{options, world, cameras, root};
  std::vector<FrameOutput> frames(static_cast<size_t>(options.frames));
  std::vector<std::exception_ptr> errors(frames.size());
  // Frames in parallel (the renderer then runs each image on one thread): every frame's files
  // depend on that frame alone, so the bytes do not depend on the thread count.
#pragma omp parallel for schedule(dynamic, 1)
  for (int f = 0; f < options.frames; ++f) {
    try {
      frames[static_cast<size_t>(f)] = writer.write_frame(f);
    } catch (...) {
      errors[static_cast<size_t>(f)] = std::current_exception();
    }
  }
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  // The instance tables last: complete tables mean every frame is in place.
  write_instances(root, world, frames, writer.road_to_world(), options.unposed_people);
}

}  // namespace gs
