// A street scene (datasets/street_scene.h) prepared for training: the views and images as a
// Dataset (so the rest of the trainer sees frames × cameras as views), the background's initial
// points from LiDAR (coloured from the images, points inside vehicle boxes removed), the rigid
// node's instances (the vehicles) with their per-frame box poses and initial points in their box
// frames, and per view the frame index, masks and LiDAR depth.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "datasets/dataset.h"
#include "datasets/street_scene.h"

namespace gs {

struct StreetTraining {
  StreetScene scene;                  // cameras, masks, LiDAR, instances (images moved out)
  std::vector<int> train_frame, test_frame;  // per view of the Dataset: its frame index
  std::vector<uint8_t> is_train_frame;       // per frame of the range
  // The vehicles (the rigid node's instances): indices into scene.instances, in order.
  std::vector<int> rigid_instances;
  // Initial points of the rigid node, in the box frame of their instance.
  std::vector<float> rigid_points, rigid_colors;
  std::vector<int32_t> rigid_point_instance;  // index into rigid_instances
};

// Loads the street scene at `path` with the config's frame range, cameras (ids 0 … cameras−1),
// downscale and held-out frames, and fills `dataset` (views, images, background points,
// extent = drivestudio's scene radius). Pedestrians and cyclists are reported and left to the
// background (their nodes come with part 2).
StreetTraining load_street_training(const std::string& path, const Config& config,
                                    Dataset& dataset);

// The LiDAR depth (camera z, 0 = no return) of a view: its frame's sweep projected.
std::vector<float> view_lidar_depth(const StreetTraining& street, int frame,
                                    const Camera& camera);

}  // namespace gs
