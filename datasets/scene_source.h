// What each format loader hands to load_dataset(): views with their native-resolution cameras,
// lens distortion and image files, and the points the source provides. load_dataset() does the
// shared work after that (split, resize, image reading, undistortion, scale, initial points),
// so every format gets it the same way.
#pragma once

#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/undistort.h"

namespace gs {

struct SourceView {
  View view;                  // camera at the native resolution of the model
  LensDistortion distortion;  // none for pinhole sources
  // The image file may be a pre-downscaled copy (COLMAP images_N/): its size must then be the
  // native size divided by file_downscale, within a pixel of rounding.
  int file_downscale = 1;
  std::string size_source;  // what fixes the native size, named in size-mismatch errors
};

struct SceneSource {
  std::string format;
  std::vector<SourceView> train, test;
  bool has_time = false;              // views carry a D-NeRF time
  bool split_given = false;           // false: load_dataset() holds out every Nth view of `train`
  bool object_in_unit_cube = false;   // NeRF-synthetic: random points go in [-1.3, 1.3]³
  std::vector<float> points, colors;  // initial points from the source (may be empty)
  std::string points_source;
  std::string ply_hint;  // a PLY of initial points named by the source (ngp ply_file_path)
};

// Per-format loaders (one file each). `root` is the dataset folder.
// NeRF-synthetic and D-NeRF: transforms_{train,val,test}.json. `require_time` for D-NeRF.
SceneSource load_nerf_synthetic(const std::string& root, const DatasetOptions& options,
                                bool require_time);
// instant-ngp transforms.json (`json_path`: the file itself).
SceneSource load_ngp(const std::string& json_path, const DatasetOptions& options);
// COLMAP sparse model (binary or text) with images/ (or images_N/).
SceneSource load_colmap(const std::string& root, const DatasetOptions& options);

}  // namespace gs
