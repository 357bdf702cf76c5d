// A deterministic generated driving scene written in drivestudio's processed Waymo layout
// (docs/street_format.md, docs/generated_scenes.md): a straight road with lane markings,
// sidewalks, buildings, lamps and trees; an ego vehicle with Waymo-style cameras and a roof
// LiDAR; vehicles driving along the lanes and articulated people walking. Everything is
// rendered by the independent CPU mesh renderer, so training has to fit real-ish images.
// It is the embedded default scene of the omnire_* presets.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace gs {

struct StreetGeneratorOptions {
  std::string size = "small";  // the preset these values came from (street_generator_preset)
  int frames = 24;             // frames at 10 Hz
  int width = 240, height = 160;
  std::vector<int> cameras{0, 1, 2};  // Waymo ids: 0 front, 1 front-left, 2 front-right,
                                      // 3 side-left, 4 side-right
  int vehicles = 4;                   // other vehicles, 0..5 (most of them drive)
  int people = 3;                     // walking articulated pedestrians, 0..3
  // The last `unposed_people` walkers get no humanpose/ entry, as when drivestudio's pose
  // fitting fails for a pedestrian: they go to the deformable node instead of the skeleton.
  int unposed_people = 1;
  uint64_t seed = 1;
  int supersample = 2;       // antialiasing samples per pixel axis: 1, 2 or 4
  int lidar_beams = 32;      // LiDAR rows over Waymo's −17.6° … +2.4° vertical field
  int lidar_azimuths = 512;  // LiDAR columns over 360° (a multiple of 8)
  int jpeg_quality = 95;
};

// The options of a named size: "small" (the defaults above: 3 cameras × 24 frames at 240×160,
// ~16k LiDAR points a sweep; seconds to generate, minutes to train on a CPU) or "large"
// (Waymo-like: 960×640, 60 frames, 64 × 1024 LiDAR rays, ~65k points a sweep; for a 12 GB
// GPU budget).
// Throws gs::ConfigError for another name.
StreetGeneratorOptions street_generator_preset(const std::string& size);

// Throws gs::ConfigError naming the offending option.
void validate_street_generator_options(const StreetGeneratorOptions& options);

// Writes the scene into `out_dir` (created if needed; files of an earlier run are replaced):
// images/, ego_pose/, extrinsics/, intrinsics/, lidar/, sky_masks/, dynamic_masks/{all,human,
// vehicle}/ and instances/. Same options → byte-identical files, whatever the thread count.
// Throws gs::ConfigError for invalid options and gs::IoError when writing fails.
void generate_street_scene(const std::string& out_dir, const StreetGeneratorOptions& options);

// Where the street lies, for tests and tools: the road runs along +x of a "road frame" whose
// z = 0 plane is the asphalt; road_to_world (row-major 4×4, rigid) places it in the world of
// ego_pose/ and instances_info.json (deliberately not the first ego frame).
struct StreetLayout {
  std::array<float, 16> road_to_world{};
  float road_half_width = 7;  // |y| < this is asphalt (z = 0)
  float sidewalk_width = 4;   // then the sidewalk, raised by the curb
  float curb_height = 0.15f;  // everything off the road (sidewalk, verges) is at this z
};
StreetLayout street_layout(const StreetGeneratorOptions& options);

}  // namespace gs
