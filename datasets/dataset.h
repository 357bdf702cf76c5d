// The loaded training scene: calibrated views, their 8-bit images in host memory, initial points
// and the scene scale. One entry point, load_dataset(), reads every supported format
// (docs/datasets.md): NeRF-synthetic, D-NeRF, instant-ngp and COLMAP (binary or text).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/camera.h"

namespace gs {

struct DatasetOptions {
  std::string format = "auto";  // auto | nerf | dnerf | ngp | colmap
  int downscale = 1;            // integer image downscale factor (COLMAP uses images_N/ if present)
  int width = 0, height = 0;    // resize target; 0 = from downscale (one of them: keep aspect)
  std::array<float, 3> background{1, 1, 1};  // alpha of RGBA images is composited on this
  int test_every = 8;               // without a given test split, views 0, N, 2N, … are held out;
                                    // 0 = no held-out views
  int init_random_points = 100000;  // random initial points when the scene has none (0: none)
  std::string init_ply;     // a PLY of initial points (x y z [+ colour]); overrides the scene's
  uint32_t seed = 0;        // for the random initial points
  bool load_images = true;  // false: cameras and points only (plans, tools); no decoding
};

struct View {
  std::string name;        // image name as in the source (COLMAP name, or JSON file_path)
  Camera camera;           // OpenCV axes, pinhole, at the loaded image resolution
  float time = 0;          // D-NeRF time in [0, 1]; 0 for static scenes
  std::string image_path;  // the file the image was (or would be) read from
};

// An 8-bit RGB image (H×W×3, row-major) with any alpha already composited on the background.
struct HostImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
  size_t bytes() const { return rgb.size(); }
};

struct Dataset {
  std::string root;    // the dataset folder
  std::string format;  // nerf | dnerf | ngp | colmap (what was actually loaded)
  std::vector<View> train, test;
  std::vector<HostImage> train_images, test_images;  // parallel to train/test; empty when
                                                     // options.load_images is false
  std::vector<float> init_points;                    // M×3 world positions
  std::vector<float> init_colors;                    // M×3 RGB in [0, 1]
  std::string init_source;  // "colmap points3D", "<ply path>", "random (…)" or "none"
  std::array<float, 3> scene_center{0, 0, 0};  // mean of the training camera centres
  float scene_extent = 1;  // 1.1 × the largest distance of a training camera centre from the
                           // mean (3DGS "cameras_extent"); 1 when that is degenerate
  bool has_time = false;   // views carry a D-NeRF time
};

// Loads the dataset at `path` (a folder, or a transforms JSON file). Throws gs::IoError naming
// the file and field for anything missing or malformed, and gs::ConfigError for bad options.
Dataset load_dataset(const std::string& path, const DatasetOptions& options = {});

// Host bytes held by the images of both splits (what caching them on a device would take,
// as 8-bit RGB).
size_t image_bytes(const Dataset& dataset);

}  // namespace gs
