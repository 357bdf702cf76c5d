// Street scene nodes' inputs (see street_nodes.h).
#include "trainer/street_nodes.h"

#include <algorithm>

#include "core/errors.h"
#include "core/logging.h"
#include "datasets/body_template_file.h"
#include "deform/skinning.h"
#include "scene/init_gaussians.h"

namespace gs {

RigidInstances box_node_instances(const StreetTraining& st, const BoxNodeData& node) {
  const StreetScene& sc = st.scene;
  RigidInstances ri;
  ri.frames = sc.frames;
  const size_t K = node.instances.size();
  ri.present.assign(size_t(sc.frames) * K, 0);
  ri.box_to_world.resize(size_t(sc.frames) * K);
  for (size_t k = 0; k < K; ++k) {
    const StreetInstance& inst = sc.instances[size_t(node.instances[k])];
    ri.ids.push_back(inst.id);
    ri.box_size.push_back(inst.box_size);
    for (int f = 0; f < sc.frames; ++f) {
      ri.present[size_t(f) * K + k] = inst.present[size_t(f)];
      ri.box_to_world[size_t(f) * K + k] = inst.box_to_world[size_t(f)];
    }
  }
  ri.trained_frame = st.is_train_frame;
  return ri;
}

GaussianCloud box_node_cloud(const BoxNodeData& node, int sh_degree, size_t capacity,
                             uint64_t seed, std::vector<int32_t>& tags) {
  const size_t total = node.point_instance.size();
  const size_t stride = std::max<size_t>((total + capacity - 1) / std::max<size_t>(capacity, 1), 1);
  GaussianCloud all;
  all.sh_degree = sh_degree;
  tags.clear();
  for (size_t k = 0; k < node.instances.size(); ++k) {
    std::vector<float> pts, cols;
    size_t seen = 0;
    for (size_t i = 0; i < total; ++i) {
      if (node.point_instance[i] != int32_t(k)) continue;
      if (seen++ % stride != 0) continue;
      pts.insert(pts.end(), &node.points[3 * i], &node.points[3 * i] + 3);
      cols.insert(cols.end(), &node.colors[3 * i], &node.colors[3 * i] + 3);
    }
    if (pts.empty()) continue;
    const GaussianCloud c = gaussians_from_points(pts, cols, sh_degree, pts.size() / 3, seed + k);
    all.append(c);
    tags.insert(tags.end(), c.size(), int32_t(k));
  }
  return all;
}

SkeletonHumans skeleton_humans(const StreetTraining& st, const Dataset& data,
                               const NodeConfig& node, uint64_t seed) {
  const StreetScene& sc = st.scene;
  SkeletonHumans h;
  h.frames = sc.frames;
  const size_t H = st.human_instances.size();
  if (!node.body_model.empty()) {
    try {
      h.body = read_body_template(node.body_model);
    } catch (const DataError&) {
      throw;
    } catch (const IoError& e) {
      throw DataError(std::string(e.what()) + " (nodes." + node.name + ".body_model)", e.hint());
    }
  } else {
    const int64_t per_human =
        std::clamp<int64_t>(node.init_points / int64_t(std::max<size_t>(H, 1)), 200,
                            kMaxTemplateVertices);
    h.body = procedural_body_template(size_t(per_human), seed);
  }
  h.present.assign(size_t(sc.frames) * H, 0);
  h.poses.assign(h.present.size() * size_t(kPoseFloats), 0.f);
  h.trained_frame = st.is_train_frame;
  // world_from_log maps the file's translation: pelvis_log = J0 + t  ⇒  t_ours = M(J0 + t) − J0.
  const std::array<double, 16>& M = sc.world_from_log;
  const auto& J0 = h.body.joints[0];
  for (size_t k = 0; k < H; ++k) {
    const StreetInstance& inst = sc.instances[size_t(st.human_instances[k])];
    const HumanPoseTrack& track = sc.human_poses[size_t(st.human_tracks[k])];
    h.ids.push_back(inst.id);
    int first = -1;
    for (int f = 0; f < sc.frames; ++f) {
      if (!track.present[size_t(f)]) continue;
      h.present[size_t(f) * H + k] = 1;
      const auto& p = track.poses[size_t(f)];
      float* out = h.poses.data() + (size_t(f) * H + k) * size_t(kPoseFloats);
      for (int i = 0; i < kSkeletonJoints * 4; ++i) out[i] = float(p[size_t(i)]);
      const double pelvis[3] = {J0[0] + p[96], J0[1] + p[97], J0[2] + p[98]};
      for (int a = 0; a < 3; ++a)
        out[96 + a] = float(M[4 * a] * pelvis[0] + M[4 * a + 1] * pelvis[1] +
                            M[4 * a + 2] * pelvis[2] + M[4 * a + 3] - J0[size_t(a)]);
      if (first < 0 && st.is_train_frame[size_t(f)]) first = f;
    }
    // Colours: the template posed in the first trained frame, seen by that frame's views.
    std::vector<float> world;
    if (first >= 0) {
      double pose[kPoseFloats], A[kSkeletonJoints * 12], Q[kSkeletonJoints * 4];
      const float* p = h.poses.data() + (size_t(first) * H + k) * size_t(kPoseFloats);
      for (int i = 0; i < kPoseFloats; ++i) pose[i] = p[i];
      pose_skeleton(h.body, pose, A, Q);
      for (size_t v = 0; v < h.body.size(); ++v) {
        double x[3] = {0, 0, 0};
        for (int i = 0; i < kSkinInfluences; ++i) {
          const double* a = A + 12 * h.body.skin_joints[v][size_t(i)];
          const double w = h.body.skin_weights[v][size_t(i)];
          for (int r = 0; r < 3; ++r)
            x[r] += w * (a[4 * r] * h.body.vertices[v][0] + a[4 * r + 1] * h.body.vertices[v][1] +
                         a[4 * r + 2] * h.body.vertices[v][2] + a[4 * r + 3]);
        }
        world.insert(world.end(), {float(x[0]), float(x[1]), float(x[2])});
      }
      const std::vector<float> c = colours_in_frame(st, data, first, world);
      h.init_colors.insert(h.init_colors.end(), c.begin(), c.end());
    } else {
      h.init_colors.insert(h.init_colors.end(), h.body.size() * 3, 0.5f);
    }
  }
  log_info("skeleton: ", H, " humans on the ", h.body.source, " template (", h.body.size(),
           " vertices)");
  return h;
}

}  // namespace gs
