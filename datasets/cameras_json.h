// A small JSON camera list for rendering tools (gsrender, bench_render) and test fixtures:
//
//   {"cameras": [{"name": "front", "width": 1280, "height": 720,
//                 "fx": 1000, "fy": 1000, "cx": 640, "cy": 360,
//                 "world_to_camera": [[r00, r01, r02, tx], [.., .., .., ty],
//                                     [.., .., .., tz], [0, 0, 0, 1]]}, ...]}
//
// Conventions as in DESIGN.md §3: OpenCV camera axes (x right, y down, z forward), intrinsics
// in pixels with pixel (i, j) centred at (i+0.5, j+0.5), a rigid world→camera matrix. Names must
// be unique and usable as file names (gsrender writes <name>.png). Unknown keys are ignored.
#pragma once

#include <string>
#include <vector>

#include "core/camera.h"

namespace gs {

// Reads and validates a camera list. Throws gs::IoError naming the file, the camera index (and
// name) and the field for missing or mistyped fields, non-positive sizes or focal lengths, and
// non-finite or non-rigid matrices.
std::vector<Camera> read_cameras_json(const std::string& path);

// Writes cameras in the same schema, atomically (`path`.tmp, then renamed).
void write_cameras_json(const std::string& path, const std::vector<Camera>& cameras);

}  // namespace gs
