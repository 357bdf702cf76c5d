// The file-level readers behind load_street_scene() (datasets/street_scene.h): the text
// matrices and intrinsics, the LiDAR .bin sweeps, the instance JSON files and the masks of
// drivestudio's processed layout (docs/street_format.md). Each throws gs::IoError naming the
// file (and the field, for JSON) when its input is missing or malformed. Internal to datasets/.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "datasets/street_scene.h"
#include "datasets/view_images.h"

namespace gs {

// Row-major 4×4 in double: poses are composed here before they are stored as float, so the
// long ego trajectories of real logs (kilometres from the origin) keep their precision.
using Matrix4d = std::array<double, 16>;
Matrix4d multiply(const Matrix4d& a, const Matrix4d& b);
Matrix4d rigid_inverse(const Matrix4d& m);  // [R t]⁻¹ = [Rᵀ −Rᵀt]
std::array<float, 16> to_float(const Matrix4d& m);
// Applies m to the point (x, y, z).
std::array<double, 3> transform_point(const Matrix4d& m, double x, double y, double z);

// "" when `m` is a rigid transform (orthonormal rotation, last row 0 0 0 1, finite), else what
// is wrong with it, for the caller's error message.
std::string rigid_problem(const Matrix4d& m);

// The {t:03d} stem of frame t's files ("003"), and of a view's files ("003_1").
std::string frame_stem(int frame);
std::string view_stem(int frame, int camera_id);

// A 4×4 matrix written as 16 whitespace-separated numbers (np.savetxt's layout, or any other),
// which must be rigid: ego_pose/{t}.txt and extrinsics/{cam}.txt.
Matrix4d read_pose_file(const std::string& path);

// intrinsics/{cam}.txt: fu fv cu cv k1 k2 p1 p2 k3 in any line layout.
struct StreetIntrinsics {
  double fx = 0, fy = 0, cx = 0, cy = 0;
  std::vector<double> distortion;  // k1 k2 p1 p2 k3 (OpenCV's order)
};
StreetIntrinsics read_intrinsics_file(const std::string& path);

// lidar/{t}.bin: float32 N×14, rows in the vehicle frame of that frame. Returns the origins and
// points (columns 0–2 and 3–5) mapped by `vehicle_to_world`, keeping every k-th row so that at
// most `max_points` remain (0: all).
LidarSweep read_lidar_sweep(const std::string& path, const Matrix4d& vehicle_to_world,
                            size_t max_points);

// instances/instances_info.json and instances/frame_instances.json. `total_frames` is the
// number of frames of the scene (frame_idx beyond it is an error); the instances returned are
// those annotated in the selected range [start, start + frames), poses mapped by
// `world_from_log` (the inverse of the first selected ego pose), ordered by id.
std::vector<StreetInstance> read_street_instances(const std::string& info_path,
                                                  const std::string& frames_path, int total_frames,
                                                  int start, int frames,
                                                  const Matrix4d& world_from_log);

// humanpose/poses.json: the poses of the humans among `instances` (docs/humanpose_format.md).
// Throws IoError naming the file and field: wrong format or joint count, an instance id that is
// not annotated (or not a Pedestrian/Cyclist), a quaternion that is not 4 finite numbers or is
// zero, body_pose without 23 joints, frame_idx outside the scene. Frames outside the selected
// range are skipped.
std::vector<HumanPoseTrack> read_human_poses(const std::string& path,
                                             const std::vector<StreetInstance>& instances,
                                             int total_frames, int start, int frames,
                                             const Matrix4d& world_from_log);

// The sky and dynamic masks of each view (sky_masks/, dynamic_masks/{all,human,vehicle}/, the
// view's file stem + .png), parallel to `views`, each brought to the size and lens model its
// image request describes: first channel thresholded at 128 to 0/255, resized (nearest) to the
// output size, undistorted like the image. A missing file gives an empty mask; a file whose
// size is neither the camera's native image size nor the output size is an IoError. Threads
// over files; the first failing file in view order is the error thrown.
std::vector<StreetFrameMasks> load_view_masks(const std::string& root,
                                              const std::vector<StreetView>& views,
                                              const std::vector<ImageRequest>& images);

}  // namespace gs
