// Rigid instance transforms of OmniRe-style rigid nodes (DESIGN.md §5): Gaussians stored in
// box-local frames, each tagged with an instance, are moved to the world by that instance's pose
// in the current frame. Forward and backward on either device (math in rigid_transform_impl.h),
// plus host-side pose interpolation for frames between keyframes.
//
// Conventions:
// - A pose is an unnormalised quaternion q (w, x, y, z) and a translation T. With q̂ = q/|q|:
//     world mean = R(q̂)·μ + T,   world quaternion = q̂ ⊗ q_local (Hamilton product).
//   The world quaternion is NOT normalised: it has the norm of q_local (the rasterizer
//   normalises quaternions itself, and its gradient is taken w.r.t. the unnormalised one).
// - Log-scales and SH pass through unchanged (the caller hands its own buffers to the
//   rasterizer). Opacity passes through too, except for absent instances, below.
// - Absent instances (present[k] == 0, or an instance index outside [0, K)): their Gaussians'
//   opacity logit becomes kAbsentOpacityLogit, so the rasterizer culls them (sigmoid ≈ 0 is
//   below its 1/255 threshold) and they get no gradient; their mean and quaternion are copied
//   untransformed (finite, so nothing is counted as non-finite), and the backward gives them
//   zero gradients. Where the caller knows every instance is present it may skip the opacity
//   output and use its own logits.
// - The opacity gradient passes straight through (the rasterizer's ∂L/∂logit of a present
//   Gaussian is the stored logit's; that of an absent one is zero already).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace gs {

// The opacity logit of Gaussians whose instance is absent from the frame.
constexpr float kAbsentOpacityLogit = -1.0e4f;

// One frame's instance poses, on the device the transform runs on. For a pose table of F
// frames × K instances stored row-major, point at row f (quats + f·K·4, ...).
template <class T>
struct InstancePosesT {
  size_t count = 0;                  // K instances
  const T* quats = nullptr;          // K × 4, (w, x, y, z), unnormalised
  const T* translations = nullptr;   // K × 3
  const uint8_t* present = nullptr;  // K, nonzero = in this frame; null = all present
};

// n Gaussians → world. instance_ids (n, int32) index the poses. opacity_logits and opacity_out
// are both given or both null (then absence is the caller's concern). Outputs may not alias
// inputs. T is float or double on the CPU, float on CUDA.
template <class T>
void rigid_transform_forward(const Device& device, size_t n, const int32_t* instance_ids,
                             const T* means_local, const T* quats_local, const T* opacity_logits,
                             const InstancePosesT<T>& poses, T* means_world, T* quats_world,
                             T* opacity_out);

// Backward of rigid_transform_forward. In: ∂L/∂(world mean, world quaternion) (n × 3, n × 4).
// Out: v_means_local (n × 3) and v_quats_local (n × 4) are overwritten (zero for absent
// Gaussians); v_pose_quats (K × 4, w.r.t. the unnormalised pose quaternion) and
// v_pose_translations (K × 3) are accumulated into, summed over each instance's Gaussians; they
// may both be null when the poses are not optimised. The CPU sums in fixed chunks in a fixed
// order (bit-reproducible whatever the thread count); CUDA uses warp-aggregated atomics.
template <class T>
void rigid_transform_backward(const Device& device, size_t n, const int32_t* instance_ids,
                              const T* means_local, const T* quats_local,
                              const InstancePosesT<T>& poses, const T* v_means_world,
                              const T* v_quats_world, T* v_means_local, T* v_quats_local,
                              T* v_pose_quats, T* v_pose_translations);

// A pose on the host, for interpolation (quaternion (w, x, y, z)).
struct RigidPose {
  std::array<double, 4> quat{1, 0, 0, 0};
  std::array<double, 3> translation{0, 0, 0};
};

// Spherical linear interpolation of the normalised quaternions along the shorter arc
// (s = 0 → a, s = 1 → b; the result is unit length), linear interpolation of translations.
// For test frames between two training frames' poses.
RigidPose interpolate_pose(const RigidPose& a, const RigidPose& b, double s);
std::array<double, 4> slerp(const std::array<double, 4>& a, const std::array<double, 4>& b,
                            double s);

// Backends (rigid_transform_cpu.cpp, rigid_transform_cuda.cu).
template <class T>
void rigid_transform_forward_cpu(size_t n, const int32_t* instance_ids, const T* means_local,
                                 const T* quats_local, const T* opacity_logits,
                                 const InstancePosesT<T>& poses, T* means_world, T* quats_world,
                                 T* opacity_out);
template <class T>
void rigid_transform_backward_cpu(size_t n, const int32_t* instance_ids, const T* means_local,
                                  const T* quats_local, const InstancePosesT<T>& poses,
                                  const T* v_means_world, const T* v_quats_world,
                                  T* v_means_local, T* v_quats_local, T* v_pose_quats,
                                  T* v_pose_translations);
#ifdef GSTRAIN_WITH_CUDA
void rigid_transform_forward_cuda(const Device& device, size_t n, const int32_t* instance_ids,
                                  const float* means_local, const float* quats_local,
                                  const float* opacity_logits,
                                  const InstancePosesT<float>& poses, float* means_world,
                                  float* quats_world, float* opacity_out);
void rigid_transform_backward_cuda(const Device& device, size_t n, const int32_t* instance_ids,
                                   const float* means_local, const float* quats_local,
                                   const InstancePosesT<float>& poses,
                                   const float* v_means_world, const float* v_quats_world,
                                   float* v_means_local, float* v_quats_local,
                                   float* v_pose_quats, float* v_pose_translations);
#endif

}  // namespace gs
