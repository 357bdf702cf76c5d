// A street scene (datasets/street_scene.h) prepared for training: the views and images as a
// Dataset (so the rest of the trainer sees frames × cameras as views), the background's initial
// points from LiDAR (coloured from the images, points inside vehicle boxes removed), the rigid
// node's instances (the vehicles) with their per-frame box poses and initial points in their box
// frames, and per view the frame index, masks and LiDAR depth.
#pragma once

#include <array>
#include <cstdint>
#include <map>
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

// The LiDAR depth images of the training views (camera z, 0 = no return: the frame's sweep
// projected by lidar_depth_image), projected once per (view, resolution of the coarse-to-fine
// schedule) and kept sparse on the host — the pixels with a return, a few percent of the image —
// so a step writes the dense image for its upload instead of projecting every point of the
// frame again (a real sweep has ~170k points).
class LidarDepthCache {
 public:
  // Writes the depth image of view `view` (frame `frame`, seen by `camera`, which is the view's
  // camera at 1/`factor` of its resolution) into `out`, resized to the camera's pixels. Returns
  // false, `out` untouched, when the frame has no LiDAR sweep.
  bool dense(const StreetTraining& street, size_t view, int frame, int factor,
             const Camera& camera, std::vector<float>& out);
  size_t views() const { return views_.size(); }
  size_t host_bytes() const;

 private:
  struct Sparse {
    int frame = -1;               // what it was projected for, checked on every use
    Camera camera;
    std::vector<uint32_t> index;  // pixels with a return
    std::vector<float> depth;     // their depth
  };
  std::map<std::pair<size_t, int>, Sparse> views_;  // (view, factor)
};

}  // namespace gs
