// What the street scene's nodes are built from (trainer/street_data.h → scene/): the boxes and
// per-frame poses of a box-framed node's instances, its initial Gaussians (per instance, tagged),
// and the skinned humans' template, per-frame poses in our world and initial colours.
#pragma once

#include <cstdint>
#include <vector>

#include "config/config.h"
#include "scene/gaussian_cloud.h"
#include "scene/rigid_node.h"
#include "scene/skeleton_node.h"
#include "trainer/street_data.h"

namespace gs {

// At most this many template vertices per human (SMPL's 6890).
constexpr int64_t kMaxTemplateVertices = 6890;

// The instances of a rigid or deformable node: box sizes and per-frame poses.
RigidInstances box_node_instances(const StreetTraining& street, const BoxNodeData& node);

// The node's initial Gaussians: per instance (scales from each instance's own neighbours),
// concatenated, with `tags` the instance of each; every k-th point when they pass `capacity`.
GaussianCloud box_node_cloud(const BoxNodeData& node, int sh_degree, size_t capacity,
                             uint64_t seed, std::vector<int32_t>& tags);

// The skinned humans of a skeleton node: the body template (node.body_model, or the procedural
// one with init_points / humans vertices, at most kMaxTemplateVertices), each human's poses with
// the translation mapped into our world, and colours from the training views of the first frame
// each human is posed in. Throws DataError for a bad body_model file.
SkeletonHumans skeleton_humans(const StreetTraining& street, const Dataset& dataset,
                               const NodeConfig& node, uint64_t seed);

}  // namespace gs
