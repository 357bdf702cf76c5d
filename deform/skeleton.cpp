// The skeleton's kinematic chain and procedural body template (see skeleton.h).
#include "deform/skeleton.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/errors.h"
#include "core/quat_math.h"

namespace gs {

namespace {

using rmath::Mat3;
using rmath::Vec4;
using V3 = std::array<double, 3>;

const char* const kJointNames[kSkeletonJoints] = {
    "pelvis",      "left_hip",       "right_hip",      "spine1",      "left_knee",
    "right_knee",  "spine2",         "left_ankle",     "right_ankle", "spine3",
    "left_foot",   "right_foot",     "neck",           "left_collar", "right_collar",
    "head",        "left_shoulder",  "right_shoulder", "left_elbow",  "right_elbow",
    "left_wrist",  "right_wrist",    "left_hand",      "right_hand"};

Vec4<double> unit_quat(const double* q, double& norm) {
  norm = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  GS_CHECK(norm > 0, "skeleton pose: a zero quaternion");
  return {q[0] / norm, q[1] / norm, q[2] / norm, q[3] / norm};
}

// ∂L/∂q (unnormalised) from ∂L/∂q̂: (I − q̂q̂ᵀ) g / |q|.
Vec4<double> through_normalisation(const Vec4<double>& qn, double norm, const Vec4<double>& g) {
  const double d = qn.w * g.w + qn.x * g.x + qn.y * g.y + qn.z * g.z;
  return {(g.w - qn.w * d) / norm, (g.x - qn.x * d) / norm, (g.y - qn.y * d) / norm,
          (g.z - qn.z * d) / norm};
}

struct Chain {
  Mat3<double> R[kSkeletonJoints], local[kSkeletonJoints];
  V3 t[kSkeletonJoints];
  Vec4<double> Q[kSkeletonJoints], qn[kSkeletonJoints];
  double norm[kSkeletonJoints];
};

Chain run_chain(const BodyTemplate& body, const double* pose) {
  Chain c;
  const auto& J = body.joints;
  for (int j = 0; j < kSkeletonJoints; ++j) {
    c.qn[j] = unit_quat(pose + 4 * j, c.norm[j]);
    c.local[j] = rmath::quat_to_rotmat(c.qn[j]);
    const int p = kSmplParents[size_t(j)];
    if (p < 0) {
      c.R[j] = c.local[j];
      for (int a = 0; a < 3; ++a) c.t[j][size_t(a)] = J[0][size_t(a)] + pose[kSkeletonJoints * 4 + a];
      c.Q[j] = c.qn[j];
      continue;
    }
    c.R[j] = rmath::mul(c.R[p], c.local[j]);
    for (int a = 0; a < 3; ++a) {
      double v = c.t[p][size_t(a)];
      for (int b = 0; b < 3; ++b) v += c.R[p].m[a][b] * (J[size_t(j)][size_t(b)] - J[size_t(p)][size_t(b)]);
      c.t[j][size_t(a)] = v;
    }
    c.Q[j] = rmath::hamilton(c.Q[p], c.qn[j]);
  }
  return c;
}

}  // namespace

const char* smpl_joint_name(int joint) {
  return joint >= 0 && joint < kSkeletonJoints ? kJointNames[joint] : "?";
}

std::array<double, kPoseFloats> rest_pose() {
  std::array<double, kPoseFloats> p{};
  for (int j = 0; j < kSkeletonJoints; ++j) p[size_t(4 * j)] = 1;
  return p;
}

void pose_skeleton(const BodyTemplate& body, const double* pose, double* A, double* Q) {
  const Chain c = run_chain(body, pose);
  for (int j = 0; j < kSkeletonJoints; ++j) {
    const V3& Jj = body.joints[size_t(j)];
    for (int a = 0; a < 3; ++a) {
      double shift = c.t[j][size_t(a)];
      for (int b = 0; b < 3; ++b) {
        A[12 * j + 4 * a + b] = c.R[j].m[a][b];
        shift -= c.R[j].m[a][b] * Jj[size_t(b)];
      }
      A[12 * j + 4 * a + 3] = shift;
    }
    Q[4 * j] = c.Q[j].w, Q[4 * j + 1] = c.Q[j].x, Q[4 * j + 2] = c.Q[j].y, Q[4 * j + 3] = c.Q[j].z;
  }
}

void pose_skeleton_backward(const BodyTemplate& body, const double* pose, const double* vA,
                            const double* vQ_in, double* v_pose) {
  const Chain c = run_chain(body, pose);
  const auto& J = body.joints;
  Mat3<double> vR[kSkeletonJoints];
  V3 vt[kSkeletonJoints];
  Vec4<double> vQ[kSkeletonJoints];
  // A_j = [R_j | t_j − R_j J_j]: ∂/∂R_j = vA_rot − vA_trans J_jᵀ, ∂/∂t_j = vA_trans.
  for (int j = 0; j < kSkeletonJoints; ++j) {
    for (int a = 0; a < 3; ++a) {
      const double vtrans = vA[12 * j + 4 * a + 3];
      vt[j][size_t(a)] = vtrans;
      for (int b = 0; b < 3; ++b)
        vR[j].m[a][b] = vA[12 * j + 4 * a + b] - vtrans * J[size_t(j)][size_t(b)];
    }
    vQ[j] = {vQ_in[4 * j], vQ_in[4 * j + 1], vQ_in[4 * j + 2], vQ_in[4 * j + 3]};
  }
  std::fill(v_pose, v_pose + kPoseFloats, 0.0);
  // Children before parents (every parent index is smaller than its child's).
  for (int j = kSkeletonJoints - 1; j >= 0; --j) {
    const int p = kSmplParents[size_t(j)];
    Mat3<double> v_local;
    Vec4<double> v_qn;
    if (p < 0) {
      v_local = vR[j];
      v_qn = vQ[j];
      for (int a = 0; a < 3; ++a) v_pose[kSkeletonJoints * 4 + a] = vt[j][size_t(a)];
    } else {
      // R_j = R_p L_j, t_j = R_p (J_j − J_p) + t_p, Q_j = Q_p ⊗ q̂_j.
      v_local = rmath::mul(rmath::transpose(c.R[p]), vR[j]);
      const Mat3<double> from_R = rmath::mul(vR[j], rmath::transpose(c.local[j]));
      for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b)
          vR[p].m[a][b] += from_R.m[a][b] +
                           vt[j][size_t(a)] * (J[size_t(j)][size_t(b)] - J[size_t(p)][size_t(b)]);
        vt[p][size_t(a)] += vt[j][size_t(a)];
      }
      const Vec4<double> vQp = rmath::hamilton(vQ[j], rmath::conjugate(c.qn[j]));
      vQ[p] = {vQ[p].w + vQp.w, vQ[p].x + vQp.x, vQ[p].y + vQp.y, vQ[p].z + vQp.z};
      v_qn = rmath::hamilton(rmath::conjugate(c.Q[p]), vQ[j]);
    }
    // The rotation matrix's gradient includes the normalisation; the quaternion path's is added.
    const Vec4<double> q = {pose[4 * j], pose[4 * j + 1], pose[4 * j + 2], pose[4 * j + 3]};
    const Vec4<double> from_matrix = rmath::v_quat_to_rotmat(q, v_local);
    const Vec4<double> from_quat = through_normalisation(c.qn[j], c.norm[j], v_qn);
    v_pose[4 * j] = from_matrix.w + from_quat.w;
    v_pose[4 * j + 1] = from_matrix.x + from_quat.x;
    v_pose[4 * j + 2] = from_matrix.y + from_quat.y;
    v_pose[4 * j + 3] = from_matrix.z + from_quat.z;
  }
}

// ---- The procedural template ----

namespace {

// Rest joints of an adult of 1.75 m, arms down, feet on y = 0 (SMPL axes: y up, x left,
// z forward). The proportions are those of the generated street scene's walkers.
constexpr double kRestJoints[kSkeletonJoints][3] = {
    {kProceduralPelvis[0], kProceduralPelvis[1], kProceduralPelvis[2]}, {0.10, 0.88, 0},     {-0.10, 0.88, 0},   {0, 1.03, 0},
    {0.10, 0.47, 0},     {-0.10, 0.47, 0},    {0, 1.15, 0},       {0.10, 0.09, 0},
    {-0.10, 0.09, 0},    {0, 1.27, 0},        {0.10, 0.03, 0.10}, {-0.10, 0.03, 0.10},
    {0, 1.44, 0},        {0.08, 1.38, 0},     {-0.08, 1.38, 0},   {0, 1.56, 0.01},
    {0.27, 1.40, 0},     {-0.27, 1.40, 0},    {0.27, 1.10, 0},    {-0.27, 1.10, 0},
    {0.27, 0.85, 0},     {-0.27, 0.85, 0},    {0.27, 0.78, 0},    {-0.27, 0.78, 0}};

// A body part: a capsule-like tube around the segment a → b with elliptic cross-section
// (radius rx along the body's left axis where possible, rz the other way), moved by `owner`.
struct Bone {
  int owner;
  V3 a, b;
  double rx, rz;
};

std::vector<Bone> body_bones() {
  auto J = [](int j) { return V3{kRestJoints[j][0], kRestJoints[j][1], kRestJoints[j][2]}; };
  std::vector<Bone> bones = {
      {0, J(2), J(1), 0.12, 0.12},                 // pelvis across the hips
      {0, J(0), J(3), 0.19, 0.12},                 // lower torso
      {3, J(3), J(6), 0.20, 0.12},
      {6, J(6), J(9), 0.21, 0.12},
      {9, J(9), J(12), 0.21, 0.12},                // chest up to the neck
      {12, J(12), J(15), 0.05, 0.05},              // neck
      {15, J(15), V3{0, 1.70, 0.01}, 0.11, 0.12},  // head
      {13, J(13), J(16), 0.06, 0.06},              // collars
      {14, J(14), J(17), 0.06, 0.06},
  };
  for (int side = 0; side < 2; ++side) {
    const int s = side;  // 0 left, 1 right: SMPL's left/right joints alternate
    const double x = side == 0 ? 0.10 : -0.10, ax = side == 0 ? 0.27 : -0.27;
    bones.push_back({1 + s, J(1 + s), J(4 + s), 0.075, 0.075});  // thigh
    bones.push_back({4 + s, J(4 + s), J(7 + s), 0.06, 0.06});    // shin
    bones.push_back({7 + s, J(7 + s), J(10 + s), 0.045, 0.05});  // foot
    bones.push_back({10 + s, J(10 + s), V3{x, 0.03, 0.17}, 0.045, 0.03});  // toes
    bones.push_back({16 + s, J(16 + s), J(18 + s), 0.05, 0.05});  // upper arm
    bones.push_back({18 + s, J(18 + s), J(20 + s), 0.045, 0.045});  // forearm
    bones.push_back({20 + s, J(20 + s), J(22 + s), 0.04, 0.03});    // hand
    bones.push_back({22 + s, J(22 + s), V3{ax, 0.72, 0}, 0.035, 0.025});  // fingers
  }
  return bones;
}

double segment_distance(const V3& p, const Bone& b) {
  V3 d, w;
  double dd = 0, wd = 0;
  for (size_t a = 0; a < 3; ++a) {
    d[a] = b.b[a] - b.a[a];
    w[a] = p[a] - b.a[a];
    dd += d[a] * d[a];
    wd += w[a] * d[a];
  }
  const double s = dd > 0 ? std::clamp(wd / dd, 0.0, 1.0) : 0.0;
  double r2 = 0;
  for (size_t a = 0; a < 3; ++a) r2 += (w[a] - s * d[a]) * (w[a] - s * d[a]);
  return std::sqrt(r2);
}

V3 cross(const V3& a, const V3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
V3 normalised(V3 v) {
  const double n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  return {v[0] / n, v[1] / n, v[2] / n};
}

}  // namespace

BodyTemplate procedural_body_template(size_t count, uint64_t seed) {
  BodyTemplate body;
  body.source = "procedural";
  for (int j = 0; j < kSkeletonJoints; ++j)
    for (int a = 0; a < 3; ++a) body.joints[size_t(j)][size_t(a)] = kRestJoints[j][a];
  const std::vector<Bone> bones = body_bones();
  // Points per bone by its lateral area.
  std::vector<double> area;
  double total = 0;
  for (const Bone& b : bones) {
    const double len = segment_distance(b.a, Bone{0, b.b, b.b, 0, 0});
    area.push_back((len + 0.5 * (b.rx + b.rz)) * (b.rx + b.rz));
    total += area.back();
  }
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::discrete_distribution<size_t> pick(area.begin(), area.end());
  const double pi = 3.14159265358979323846;
  for (size_t i = 0; i < count; ++i) {
    const Bone& b = bones[pick(rng)];
    const V3 axis = normalised({b.b[0] - b.a[0], b.b[1] - b.a[1], b.b[2] - b.a[2]});
    // Cross-section axes: the body's left (x) unless the bone runs along it.
    const V3 ref = std::abs(axis[0]) < 0.9 ? V3{1, 0, 0} : V3{0, 1, 0};
    const V3 v = normalised(cross(axis, ref));
    const V3 w = cross(v, axis);
    const double s = u(rng), theta = 2 * pi * u(rng);
    V3 p;
    for (size_t a = 0; a < 3; ++a)
      p[a] = b.a[a] + s * (b.b[a] - b.a[a]) + std::cos(theta) * b.rx * w[a] +
             std::sin(theta) * b.rz * v[a];
    body.vertices.push_back({float(p[0]), float(p[1]), float(p[2])});
    // The 4 nearest bones' owners (distinct joints), weights ∝ 1 / (d + 1 cm)⁴.
    std::array<double, kSkeletonJoints> best;
    best.fill(1e9);
    for (const Bone& other : bones)
      best[size_t(other.owner)] = std::min(best[size_t(other.owner)], segment_distance(p, other));
    std::array<int32_t, kSkeletonJoints> order;
    for (int j = 0; j < kSkeletonJoints; ++j) order[size_t(j)] = j;
    std::partial_sort(order.begin(), order.begin() + kSkinInfluences, order.end(),
                      [&](int32_t x, int32_t y) { return best[size_t(x)] < best[size_t(y)]; });
    std::array<int32_t, kSkinInfluences> joints;
    std::array<float, kSkinInfluences> weights;
    double sum = 0;
    double raw[kSkinInfluences];
    for (int k = 0; k < kSkinInfluences; ++k) {
      joints[size_t(k)] = order[size_t(k)];
      raw[k] = 1.0 / std::pow(best[size_t(order[size_t(k)])] + 0.01, 4);
      sum += raw[k];
    }
    for (int k = 0; k < kSkinInfluences; ++k) weights[size_t(k)] = float(raw[k] / sum);
    body.skin_joints.push_back(joints);
    body.skin_weights.push_back(weights);
  }
  return body;
}

}  // namespace gs
