// Rigid instance transform host API: argument checks, dispatch to the CPU or CUDA backend, and
// host-side pose interpolation.
#include "deform/rigid_transform.h"

#include <cmath>
#include <string>
#include <type_traits>

#include "core/backend_dispatch.h"
#include "core/errors.h"

namespace gs {
namespace {

template <class T>
void check_poses(const InstancePosesT<T>& poses, const char* what) {
  GS_CHECK(poses.count == 0 || (poses.quats && poses.translations),
           std::string(what) + ": null pose pointer for " + std::to_string(poses.count) +
               " instances");
  GS_CHECK(poses.count < (size_t(1) << 31),
           std::string(what) + ": more instances than int32 indices can address");
}

}  // namespace

template <class T>
void rigid_transform_forward(const Device& device, size_t n, const int32_t* instance_ids,
                             const T* means_local, const T* quats_local, const T* opacity_logits,
                             const InstancePosesT<T>& poses, T* means_world, T* quats_world,
                             T* opacity_out) {
  check_poses(poses, "rigid_transform_forward");
  GS_CHECK((opacity_logits == nullptr) == (opacity_out == nullptr),
           "rigid_transform_forward: give both opacity input and output, or neither");
  if (n == 0) return;
  GS_CHECK(instance_ids && means_local && quats_local && means_world && quats_world,
           "rigid_transform_forward: null pointer");
  if (runs_on_cuda<T>(device, "rigid_transform_forward")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      rigid_transform_forward_cuda(device, n, instance_ids, means_local, quats_local,
                                   opacity_logits, poses, means_world, quats_world, opacity_out);
#endif
    return;
  }
  rigid_transform_forward_cpu<T>(n, instance_ids, means_local, quats_local, opacity_logits, poses,
                                 means_world, quats_world, opacity_out);
}

template <class T>
void rigid_transform_backward(const Device& device, size_t n, const int32_t* instance_ids,
                              const T* means_local, const T* quats_local,
                              const InstancePosesT<T>& poses, const T* v_means_world,
                              const T* v_quats_world, T* v_means_local, T* v_quats_local,
                              T* v_pose_quats, T* v_pose_translations) {
  check_poses(poses, "rigid_transform_backward");
  GS_CHECK((v_pose_quats == nullptr) == (v_pose_translations == nullptr),
           "rigid_transform_backward: give both pose gradients, or neither");
  if (n == 0) return;
  GS_CHECK(instance_ids && means_local && quats_local && v_means_world && v_quats_world &&
               v_means_local && v_quats_local,
           "rigid_transform_backward: null pointer");
  if (runs_on_cuda<T>(device, "rigid_transform_backward")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      rigid_transform_backward_cuda(device, n, instance_ids, means_local, quats_local, poses,
                                    v_means_world, v_quats_world, v_means_local, v_quats_local,
                                    v_pose_quats, v_pose_translations);
#endif
    return;
  }
  rigid_transform_backward_cpu<T>(n, instance_ids, means_local, quats_local, poses, v_means_world,
                                  v_quats_world, v_means_local, v_quats_local, v_pose_quats,
                                  v_pose_translations);
}

std::array<double, 4> slerp(const std::array<double, 4>& a, const std::array<double, 4>& b,
                            double s) {
  const auto unit = [](std::array<double, 4> q) {
    const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    GS_CHECK(n > 0, "slerp: zero quaternion");
    for (double& c : q) c /= n;
    return q;
  };
  const std::array<double, 4> qa = unit(a);
  std::array<double, 4> qb = unit(b);
  double dot = qa[0] * qb[0] + qa[1] * qb[1] + qa[2] * qb[2] + qa[3] * qb[3];
  // q and −q are the same rotation: take the shorter arc.
  if (dot < 0) {
    for (double& c : qb) c = -c;
    dot = -dot;
  }
  std::array<double, 4> out{};
  if (dot > 1 - 1e-9) {
    // Nearly parallel: sin θ ≈ 0, so lerp (then renormalise) is exact to rounding.
    for (int c = 0; c < 4; ++c) out[c] = qa[c] + s * (qb[c] - qa[c]);
    return unit(out);
  }
  const double theta = std::acos(dot);
  const double wa = std::sin((1 - s) * theta) / std::sin(theta);
  const double wb = std::sin(s * theta) / std::sin(theta);
  for (int c = 0; c < 4; ++c) out[c] = wa * qa[c] + wb * qb[c];
  return unit(out);
}

RigidPose interpolate_pose(const RigidPose& a, const RigidPose& b, double s) {
  RigidPose out;
  out.quat = slerp(a.quat, b.quat, s);
  for (int d = 0; d < 3; ++d)
    out.translation[d] = a.translation[d] + s * (b.translation[d] - a.translation[d]);
  return out;
}

#define GS_INSTANTIATE_RIGID(T)                                                                \
  template void rigid_transform_forward<T>(const Device&, size_t, const int32_t*, const T*,    \
                                           const T*, const T*, const InstancePosesT<T>&, T*,   \
                                           T*, T*);                                            \
  template void rigid_transform_backward<T>(const Device&, size_t, const int32_t*, const T*,   \
                                            const T*, const InstancePosesT<T>&, const T*,      \
                                            const T*, T*, T*, T*, T*);
GS_INSTANTIATE_RIGID(float)
GS_INSTANTIATE_RIGID(double)
#undef GS_INSTANTIATE_RIGID

}  // namespace gs
