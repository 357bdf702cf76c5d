// A driving scene in drivestudio's processed layout (docs/street_format.md), loaded for training:
// the selected frames × cameras as calibrated views in our world and camera conventions, their
// images and masks, the LiDAR sweeps in world coordinates, and the annotated instances (boxes
// with a pose per frame). One entry point, load_street_scene(); every malformed input throws
// gs::IoError naming the file and the field.
//
// World frame: the ego (vehicle) frame of the first selected frame, so the scene starts at the
// origin with x forward, y left, z up (Waymo's vehicle axes). Cameras use OpenCV axes
// (DESIGN.md §3); the loader converts Waymo's camera axes (x forward, y left, z up).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "core/camera.h"

namespace gs {

struct StreetOptions {
  int start_frame = 0;  // first frame of the range (inclusive)
  int end_frame = -1;   // last frame (inclusive); -1: the last frame of the scene
  // drivestudio camera ids (Waymo: 0 front, 1 front-left, 2 front-right, 3 side-left,
  // 4 side-right)
  std::vector<int> cameras{0, 1, 2};
  int downscale = 1;  // integer image downscale
  // Frames k·N (k ≥ 1, 0-based in the range) are held out, every camera of them; 0 = none
  // (drivestudio's test_image_stride).
  int test_every = 10;
  bool load_images = true;  // false: cameras, LiDAR and instances only (plans, tools)
  bool load_masks = true;   // sky and dynamic masks where the files exist (with load_images)
  bool load_lidar = true;
  size_t max_lidar_points = 0;  // > 0: keep at most this many points per sweep (every k-th)
};

// The class of an annotated instance, and the node that models it.
enum class InstanceClass { vehicle, pedestrian, cyclist };
const char* to_string(InstanceClass c);

// One annotated object: a box of fixed size and a pose per frame where it is present.
struct StreetInstance {
  int id = 0;  // its key in instances_info.json (the id frame_instances.json lists)
  InstanceClass cls = InstanceClass::vehicle;
  std::array<float, 3> box_size{0, 0, 0};  // length (x), width (y), height (z), metres; the
                                           // largest over the instance's annotations
  // Per selected frame (index f = frame - start_frame): whether the instance is annotated in
  // that frame, and its box→world pose (row-major 4×4, rigid, our world; identity where the
  // instance is absent).
  std::vector<uint8_t> present;
  std::vector<std::array<float, 16>> box_to_world;
};

// The SMPL-topology poses of one human (humanpose/poses.json, docs/humanpose_format.md), per
// selected frame: 24 quaternions (w, x, y, z; [0] the global orientation, already rotated into
// our world) then the translation (still in the log's world: it depends on the body template's
// pelvis, so StreetScene::world_from_log maps it where the template is known).
constexpr int kHumanPoseJoints = 24;
constexpr int kHumanPoseFloats = kHumanPoseJoints * 4 + 3;
struct HumanPoseTrack {
  int instance = -1;              // index into StreetScene::instances
  std::vector<uint8_t> present;   // per selected frame: a pose was given
  std::vector<std::array<double, kHumanPoseFloats>> poses;  // per selected frame
};

// One view: a (frame, camera) pair.
struct StreetView {
  View view;          // camera (OpenCV axes, undistorted, at the loaded resolution), time
                      // = frame index in the range / (frames − 1), image_path
  int frame = 0;      // index into the selected frames (0 … frames − 1)
  int camera_id = 0;  // drivestudio camera id
};

// An 8-bit single-channel mask at the view's resolution (H×W, 0 or 255 after thresholding at
// 128); empty when the file does not exist in the scene.
struct HostMask {
  int width = 0, height = 0;
  std::vector<uint8_t> values;
  bool empty() const { return values.empty(); }
};

struct StreetFrameMasks {
  HostMask sky;                                          // 255 = sky
  HostMask dynamic_all, dynamic_human, dynamic_vehicle;  // 255 = that class moves here
};

// One LiDAR sweep in world coordinates.
struct LidarSweep {
  std::vector<float> origins;  // M×3, the ray origins (the sensor) in world
  std::vector<float> points;   // M×3, the hit points in world
};

struct StreetScene {
  std::string root;
  int start_frame = 0, frames = 0;  // the selected range: start_frame … start_frame + frames − 1
  std::vector<int> cameras;         // the selected camera ids
  std::vector<StreetView> train, test;
  std::vector<HostImage> train_images, test_images;       // parallel to train / test when loaded
  std::vector<StreetFrameMasks> train_masks, test_masks;  // parallel to train / test when
                                                          // images and masks are loaded
  std::vector<LidarSweep> lidar;  // per selected frame (empty if not loaded, or no lidar/)
  std::vector<std::array<float, 16>> ego_to_world;  // per selected frame, in our world
  std::vector<StreetInstance> instances;            // every instance annotated in the range, by id
                                                    // (empty without an instances/ folder)
  std::vector<HumanPoseTrack> human_poses;  // from humanpose/poses.json (empty without it)
  std::array<double, 16> world_from_log{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  // The LiDAR bounding box of all sweeps (world) and drivestudio's scene radius
  // R = 1.1 × half its largest side (the unit of densification sizes); from the camera centres
  // when no LiDAR is loaded.
  std::array<float, 3> aabb_min{0, 0, 0}, aabb_max{0, 0, 0};
  float scene_radius = 1;
};

// Loads the scene folder. Throws gs::IoError naming the file and field for anything missing or
// malformed (a truncated .bin, a JSON field of the wrong type, a frame_idx outside the scene,
// an unknown class), and gs::ConfigError naming the option for bad options (empty or repeated
// camera list, start > end, a frame range outside the scene). What is optional (masks, lidar/,
// instances/) and every rule: docs/street_format.md, "What the loader decides".
StreetScene load_street_scene(const std::string& path, const StreetOptions& options = {});

// The number of frames the scene folder holds (files in ego_pose/), without loading anything.
int count_street_frames(const std::string& path);

}  // namespace gs
