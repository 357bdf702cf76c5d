// The 24-joint skeleton of OmniRe's skinned humans (SMPL's kinematic tree), on the host in
// double: the body template (rest joints, vertices, skinning weights), the kinematic chain that
// turns one frame's pose into the joint transforms the skinning kernels use (deform/skinning.h),
// and its backward.
//
// Posing (SMPL's convention, docs/humanpose_format.md): with unit quaternions q̂_0 (the global
// orientation: template axes → world) and q̂_j (joint j relative to its parent), translation t,
//   G_0 = (R(q̂_0), J_0 + t),   G_j = G_parent(j) ∘ (R(q̂_j), J_j − J_parent(j)),
//   A_j = G_j ∘ (I, −J_j)  (so a template point x bound to joint j alone goes to A_j x),
//   Q_0 = q̂_0,  Q_j = Q_parent(j) ⊗ q̂_j  (the joint's world rotation, the quaternion of R(G_j)).
// Quaternions are stored unnormalised and normalised here (the gradient includes that).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "deform/skinning.h"

namespace gs {

// SMPL's parents (parent < child for every joint) and joint names.
constexpr std::array<int, kSkeletonJoints> kSmplParents = {
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21};
const char* smpl_joint_name(int joint);

// A body template in its canonical axes (SMPL's: y up, x to the body's left, z forward;
// metres). Vertices are where a human node's Gaussians start.
struct BodyTemplate {
  std::string source;  // "procedural" or the file it was read from
  std::array<std::array<double, 3>, kSkeletonJoints> joints{};
  std::vector<std::array<float, 3>> vertices;
  std::vector<std::array<int32_t, kSkinInfluences>> skin_joints;
  std::vector<std::array<float, kSkinInfluences>> skin_weights;  // each row sums to 1
  size_t size() const { return vertices.size(); }
};

// The procedural template's pelvis (joint 0) and the axes it is built in: a pose file written for
// it (the generated street scene's humanpose/) has transl = pelvis world position − this.
constexpr std::array<double, 3> kProceduralPelvis{0, 0.93, 0};

// The procedural template used without an SMPL model (which cannot ship): an adult of 1.75 m
// standing with the arms down, its surface sampled on capsules, boxes and spheres around the
// bones (`vertices` points, deterministic in `seed`), each bound to the 4 nearest bones' joints
// with weights falling off with the distance.
BodyTemplate procedural_body_template(size_t vertices, uint64_t seed);

// One frame's pose of one human: 24 quaternions (w, x, y, z; [0] the global orientation) and
// the translation, flattened as 24 × 4 + 3 floats (the layout of the skeleton node's pose table).
constexpr int kPoseFloats = kSkeletonJoints * 4 + 3;

// The joint transforms of one pose: A (24 × 12, row-major 3×4) and Q (24 × 4).
void pose_skeleton(const BodyTemplate& body, const double* pose, double* transforms,
                   double* quats);

// Backward of pose_skeleton: ∂L/∂A (24 × 12) and ∂L/∂Q (24 × 4) → ∂L/∂pose (kPoseFloats,
// written, w.r.t. the unnormalised quaternions).
void pose_skeleton_backward(const BodyTemplate& body, const double* pose,
                            const double* v_transforms, const double* v_quats, double* v_pose);

// The rest pose: identity rotations, zero translation.
std::array<double, kPoseFloats> rest_pose();

}  // namespace gs
