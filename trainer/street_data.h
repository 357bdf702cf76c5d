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

// The instances a box-framed node (rigid or deformable) models, and its initial points in their
// box frames.
struct BoxNodeData {
  std::vector<int> instances;          // indices into StreetScene::instances, in order
  std::vector<float> points, colors;   // initial points (box frame) and colours
  std::vector<int32_t> point_instance; // per point: index into `instances`
};

struct StreetTraining {
  StreetScene scene;                  // cameras, masks, LiDAR, instances (images moved out)
  std::vector<int> train_frame, test_frame;  // per view of the Dataset: its frame index
  std::vector<uint8_t> is_train_frame;       // per frame of the range
  BoxNodeData rigid;       // the vehicles
  BoxNodeData deformable;  // cyclists, and pedestrians without poses (or without a skeleton node)
  // The skinned humans: indices into scene.instances and, parallel, into scene.human_poses.
  std::vector<int> human_instances, human_tracks;
};

// Loads the street scene at `path` with the config's frame range, cameras (ids 0 … cameras−1),
// downscale and held-out frames, and fills `dataset` (views, images, background points,
// extent = drivestudio's scene radius). Instances go to the config's nodes: vehicles to the rigid
// node; pedestrians with poses to the skeleton node, other pedestrians and cyclists to the
// deformable node; whatever has no node stays in the background (reported). LiDAR points inside
// a box go to that instance's node (humans start from their body template instead).
StreetTraining load_street_training(const std::string& path, const Config& config,
                                    Dataset& dataset);

// The colours of world points in the training views of `frame` (the first view that sees each
// point); grey where none does.
std::vector<float> colours_in_frame(const StreetTraining& street, const Dataset& dataset,
                                    int frame, const std::vector<float>& points);

// The LiDAR depth (camera z, 0 = no return) of a view: its frame's sweep projected.
std::vector<float> view_lidar_depth(const StreetTraining& street, int frame,
                                    const Camera& camera);

}  // namespace gs
