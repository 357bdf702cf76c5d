// Kernel bodies of linear blend skinning (skinning.h), shared by skinning_cpu.cpp and
// skinning_cuda.cu (one Gaussian per index). The backward body returns each Gaussian's shares of
// its joints' gradients; how they are summed per joint is each backend's own part.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/hd.h"
#include "core/quat_math.h"
#include "core/vec_math.h"
#include "deform/rigid_transform.h"
#include "deform/skinning.h"

namespace gs::skin_impl {

using rmath::Vec4;
using rmath::conjugate;
using rmath::hamilton;

// The human of Gaussian i, or −1 when absent from the frame (or out of range).
template <class T>
GS_HD inline int human_of(const SkinBindingT<T>& b, size_t i, const SkinPosesT<T>& poses) {
  const int32_t h = b.human[i];
  if (h < 0 || size_t(h) >= poses.humans) return -1;
  if (poses.present && poses.present[h] == 0) return -1;
  return int(h);
}

// Softmax of the 4 weight logits (shifted by their maximum for range).
template <class T>
GS_HD inline void skin_weights(const T* logits, T w[kSkinInfluences]) {
  T top = logits[0];
  for (int k = 1; k < kSkinInfluences; ++k) top = logits[k] > top ? logits[k] : top;
  T sum = T(0);
  for (int k = 0; k < kSkinInfluences; ++k) {
    w[k] = rmath::exp_(logits[k] - top);
    sum += w[k];
  }
  for (int k = 0; k < kSkinInfluences; ++k) w[k] /= sum;
}

// A joint index clamped into the skeleton (a corrupt binding cannot read out of bounds).
GS_HD inline int joint_at(const int32_t* joints, size_t i, int k) {
  const int32_t j = joints[i * kSkinInfluences + k];
  return j < 0 ? 0 : (j >= kSkeletonJoints ? kSkeletonJoints - 1 : int(j));
}

// The blended transform B = Σ w_k A_k (3×4) and quaternion Σ w_k Q_k of Gaussian i.
template <class T>
GS_HD inline void blend(const SkinBindingT<T>& b, const SkinPosesT<T>& poses, size_t i, int h,
                        const T w[kSkinInfluences], T B[12], Vec4<T>& qb) {
  for (int c = 0; c < 12; ++c) B[c] = T(0);
  qb = {T(0), T(0), T(0), T(0)};
  for (int k = 0; k < kSkinInfluences; ++k) {
    const size_t row = size_t(h) * kSkeletonJoints + size_t(joint_at(b.joints, i, k));
    const T* a = poses.transforms + row * 12;
    for (int c = 0; c < 12; ++c) B[c] += w[k] * a[c];
    const T* q = poses.quats + row * 4;
    qb.w += w[k] * q[0];
    qb.x += w[k] * q[1];
    qb.y += w[k] * q[2];
    qb.z += w[k] * q[3];
  }
}

template <class T>
struct SkinForwardKernel {
  SkinBindingT<T> binding;
  const T *means, *quats, *opacity;
  SkinPosesT<T> poses;
  T *means_out, *quats_out, *opacity_out;

  GS_HD void operator()(size_t i) const {
    const int h = human_of(binding, i, poses);
    const T* m = means + 3 * i;
    const T* ql = quats + 4 * i;
    if (h < 0) {
      for (int d = 0; d < 3; ++d) means_out[3 * i + d] = m[d];
      for (int c = 0; c < 4; ++c) quats_out[4 * i + c] = ql[c];
      if (opacity_out) opacity_out[i] = T(kAbsentOpacityLogit);
      return;
    }
    T w[kSkinInfluences], B[12];
    Vec4<T> qb;
    skin_weights(binding.weight_logits + i * kSkinInfluences, w);
    blend(binding, poses, i, h, w, B, qb);
    for (int r = 0; r < 3; ++r)
      means_out[3 * i + r] = B[4 * r] * m[0] + B[4 * r + 1] * m[1] + B[4 * r + 2] * m[2] + B[4 * r + 3];
    const Vec4<T> qo = hamilton(qb, Vec4<T>{ql[0], ql[1], ql[2], ql[3]});
    quats_out[4 * i] = qo.w;
    quats_out[4 * i + 1] = qo.x;
    quats_out[4 * i + 2] = qo.y;
    quats_out[4 * i + 3] = qo.z;
    if (opacity_out) opacity_out[i] = opacity[i];
  }
};

// One Gaussian's shares of its joints' gradients: for influence k, joint joint[k] of `human`
// receives grad[k] (∂L/∂A 12, ∂L/∂Q 4).
template <class T>
struct JointShares {
  int human = -1;
  int joint[kSkinInfluences];
  T grad[kSkinInfluences][kJointGradStride];
};

template <class T>
struct SkinBackwardBody {
  SkinBindingT<T> binding;
  const T *means, *quats;
  SkinPosesT<T> poses;
  const T *v_means_world, *v_quats_world;
  T *v_means, *v_quats, *v_logits;

  // Writes Gaussian i's own gradients and fills its joint shares (human −1 when absent).
  GS_HD void operator()(size_t i, JointShares<T>& s) const {
    const int h = human_of(binding, i, poses);
    s.human = h;
    if (h < 0) {
      for (int d = 0; d < 3; ++d) v_means[3 * i + d] = T(0);
      for (int c = 0; c < 4; ++c) v_quats[4 * i + c] = T(0);
      for (int k = 0; k < kSkinInfluences; ++k) v_logits[i * kSkinInfluences + k] = T(0);
      return;
    }
    T w[kSkinInfluences], B[12];
    Vec4<T> qb;
    skin_weights(binding.weight_logits + i * kSkinInfluences, w);
    blend(binding, poses, i, h, w, B, qb);
    const T* m = means + 3 * i;
    const T x[4] = {m[0], m[1], m[2], T(1)};
    const T* vm = v_means_world + 3 * i;
    // Mean: world = B[:, :3] μ + B[:, 3].
    for (int c = 0; c < 3; ++c)
      v_means[3 * i + c] = B[c] * vm[0] + B[4 + c] * vm[1] + B[8 + c] * vm[2];
    // Quaternion: p = qb ⊗ q, adjoints v_qb = v_p ⊗ conj(q), v_q = conj(qb) ⊗ v_p.
    const T* ql = quats + 4 * i;
    const Vec4<T> vqo = {v_quats_world[4 * i], v_quats_world[4 * i + 1],
                         v_quats_world[4 * i + 2], v_quats_world[4 * i + 3]};
    const Vec4<T> v_ql = hamilton(conjugate(qb), vqo);
    v_quats[4 * i] = v_ql.w;
    v_quats[4 * i + 1] = v_ql.x;
    v_quats[4 * i + 2] = v_ql.y;
    v_quats[4 * i + 3] = v_ql.z;
    const Vec4<T> v_qb = hamilton(vqo, conjugate(Vec4<T>{ql[0], ql[1], ql[2], ql[3]}));
    // Per influence: ∂L/∂A_k = w_k vm xᵀ, ∂L/∂Q_k = w_k v_qb, ∂L/∂w_k = vm·(A_k x) + v_qb·Q_k.
    T v_w[kSkinInfluences], v_w_mean = T(0);
    for (int k = 0; k < kSkinInfluences; ++k) {
      const int j = joint_at(binding.joints, i, k);
      s.joint[k] = j;
      const size_t row = size_t(h) * kSkeletonJoints + size_t(j);
      const T* a = poses.transforms + row * 12;
      const T* q = poses.quats + row * 4;
      T vw = T(0);
      for (int r = 0; r < 3; ++r) {
        const T ax = a[4 * r] * x[0] + a[4 * r + 1] * x[1] + a[4 * r + 2] * x[2] + a[4 * r + 3];
        vw += vm[r] * ax;
        for (int c = 0; c < 4; ++c) s.grad[k][4 * r + c] = w[k] * vm[r] * x[c];
      }
      vw += v_qb.w * q[0] + v_qb.x * q[1] + v_qb.y * q[2] + v_qb.z * q[3];
      s.grad[k][12] = w[k] * v_qb.w;
      s.grad[k][13] = w[k] * v_qb.x;
      s.grad[k][14] = w[k] * v_qb.y;
      s.grad[k][15] = w[k] * v_qb.z;
      v_w[k] = vw;
      v_w_mean += w[k] * vw;
    }
    // Softmax: ∂L/∂l_k = w_k (∂L/∂w_k − Σ_m w_m ∂L/∂w_m).
    for (int k = 0; k < kSkinInfluences; ++k)
      v_logits[i * kSkinInfluences + k] = w[k] * (v_w[k] - v_w_mean);
  }
};

template <class T>
struct SkinBackwardLocalKernel {
  SkinBackwardBody<T> body;
  GS_HD void operator()(size_t i) const {
    JointShares<T> s;
    body(i, s);
  }
};

}  // namespace gs::skin_impl
