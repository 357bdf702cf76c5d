// Linear blend skinning of OmniRe's skeleton nodes (SMPL topology, DESIGN.md §5): Gaussians
// stored in a body template's canonical space, each bound to the 4 joints that influence it
// most, are posed into the world by the joints' transforms in the current frame. Forward and
// backward on either device (bodies in skinning_impl.h); the joint transforms themselves come
// from the host-side kinematic chain (deform/skeleton.h).
//
// Conventions, per Gaussian i of human h with joints j_k and weight logits l_k (k < 4):
//   w = softmax(l)                          (the learned skinning-weight correction: the logits
//                                            start at log of the template's weights)
//   world mean       = Σ_k w_k A_{h,j_k} [μ; 1]     (A: 3×4, world ← template, row-major)
//   world quaternion = (Σ_k w_k Q_{h,j_k}) ⊗ q      (Q: the joint's unit world rotation)
// The rotation is blended as quaternions (QLB) rather than taking mat2quat of the blended
// matrix as drivestudio does: the same rotation wherever one joint dominates, and a smooth,
// branch-free gradient everywhere. The world quaternion is not normalised (the rasterizer
// normalises it). Q of all joints of one human are in one hemisphere: they are products of the
// root rotation and near-identity joint rotations, so blending them never cancels.
// Absent humans behave as absent rigid instances: opacity kAbsentOpacityLogit, means and
// quaternions copied, zero gradients.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace gs {

constexpr int kSkeletonJoints = 24;   // SMPL's kinematic tree
constexpr int kSkinInfluences = 4;    // joints per Gaussian
// Per (human, joint) gradient row: ∂L/∂A (12, row-major 3×4), then ∂L/∂Q (4).
constexpr int kJointGradStride = 16;

// One frame's joint transforms of every human, on the device the skinning runs on.
template <class T>
struct SkinPosesT {
  size_t humans = 0;
  const T* transforms = nullptr;     // H × 24 × 12
  const T* quats = nullptr;          // H × 24 × 4, (w, x, y, z), unit
  const uint8_t* present = nullptr;  // H, nonzero = in this frame; null = all present
};

// The per-Gaussian binding: human index (the model's tag), joints and weight logits.
template <class T>
struct SkinBindingT {
  const int32_t* human = nullptr;   // n
  const int32_t* joints = nullptr;  // n × 4, in [0, 24)
  const T* weight_logits = nullptr; // n × 4
};

// n Gaussians → world. opacity_logits/opacity_out both given or both null.
template <class T>
void skinning_forward(const Device& device, size_t n, const SkinBindingT<T>& binding,
                      const T* means, const T* quats, const T* opacity_logits,
                      const SkinPosesT<T>& poses, T* means_world, T* quats_world,
                      T* opacity_out);

// Backward. Overwrites v_means (n × 3), v_quats (n × 4) and v_weight_logits (n × 4) (zero for
// absent Gaussians); accumulates into v_joints (H × 24 × kJointGradStride) when non-null. The
// CPU sums per joint in fixed chunks in double (bit-reproducible for any thread count); CUDA
// uses atomics.
template <class T>
void skinning_backward(const Device& device, size_t n, const SkinBindingT<T>& binding,
                       const T* means, const T* quats, const SkinPosesT<T>& poses,
                       const T* v_means_world, const T* v_quats_world, T* v_means, T* v_quats,
                       T* v_weight_logits, T* v_joints);

template <class T>
void skinning_forward_cpu(size_t n, const SkinBindingT<T>& binding, const T* means,
                          const T* quats, const T* opacity_logits, const SkinPosesT<T>& poses,
                          T* means_world, T* quats_world, T* opacity_out);
template <class T>
void skinning_backward_cpu(size_t n, const SkinBindingT<T>& binding, const T* means,
                           const T* quats, const SkinPosesT<T>& poses, const T* v_means_world,
                           const T* v_quats_world, T* v_means, T* v_quats, T* v_weight_logits,
                           T* v_joints);
#ifdef GSTRAIN_WITH_CUDA
void skinning_forward_cuda(const Device& device, size_t n, const SkinBindingT<float>& binding,
                           const float* means, const float* quats, const float* opacity_logits,
                           const SkinPosesT<float>& poses, float* means_world,
                           float* quats_world, float* opacity_out);
void skinning_backward_cuda(const Device& device, size_t n, const SkinBindingT<float>& binding,
                            const float* means, const float* quats,
                            const SkinPosesT<float>& poses, const float* v_means_world,
                            const float* v_quats_world, float* v_means, float* v_quats,
                            float* v_weight_logits, float* v_joints);
#endif

}  // namespace gs
