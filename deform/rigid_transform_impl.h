// Kernel bodies of the rigid instance transform, shared by rigid_transform_cpu.cpp and
// rigid_transform_cuda.cu (one Gaussian per index). The backward body returns each Gaussian's
// share of its instance's pose gradient; how the shares are summed per instance is the one
// thing each backend writes itself (fixed chunks on the CPU, warp-aggregated atomics on CUDA).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/hd.h"
#include "deform/rigid_transform.h"
#include "rasterizer/projection_math.h"
#include "core/quat_math.h"
#include "core/vec_math.h"

namespace gs::rigid_impl {

using rmath::Mat3;
using rmath::Vec3;
using rmath::Vec4;
using rmath::conjugate;
using rmath::hamilton;

template <class T>
GS_HD inline Vec4<T> load_quat(const T* p) { return {p[0], p[1], p[2], p[3]}; }
template <class T>
GS_HD inline Vec3<T> load_vec3(const T* p) { return {p[0], p[1], p[2]}; }

// The instance of Gaussian i, or −1 when it is absent from the frame (or out of range, which
// is treated the same way rather than read out of bounds).
template <class T>
GS_HD inline int instance_of(const int32_t* ids, size_t i, const InstancePosesT<T>& poses) {
  const int32_t k = ids[i];
  if (k < 0 || size_t(k) >= poses.count) return -1;
  if (poses.present && poses.present[k] == 0) return -1;
  return int(k);
}

// A zero pose quaternion has no rotation: the outputs become non-finite, which the rasterizer
// skips and counts, rather than silently inventing one.
template <class T>
struct RigidForwardKernel {
  const int32_t* ids;
  const T *means, *quats, *opacity;  // opacity may be null (then so is opacity_out)
  InstancePosesT<T> poses;
  T *means_out, *quats_out, *opacity_out;

  GS_HD void operator()(size_t i) const {
    const int k = instance_of(ids, i, poses);
    const T* m = means + 3 * i;
    const T* ql = quats + 4 * i;
    if (k < 0) {
      for (int d = 0; d < 3; ++d) means_out[3 * i + d] = m[d];
      for (int c = 0; c < 4; ++c) quats_out[4 * i + c] = ql[c];
      if (opacity_out) opacity_out[i] = T(kAbsentOpacityLogit);
      return;
    }
    const Vec4<T> q = load_quat(poses.quats + 4 * size_t(k));
    const Vec3<T> w = rmath::mul(rmath::quat_to_rotmat(q), load_vec3(m)) +
                      load_vec3(poses.translations + 3 * size_t(k));
    means_out[3 * i] = w.x;
    means_out[3 * i + 1] = w.y;
    means_out[3 * i + 2] = w.z;
    const T inv = T(1) / rmath::sqrt_(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
    const Vec4<T> qo = hamilton(Vec4<T>{q.w * inv, q.x * inv, q.y * inv, q.z * inv}, load_quat(ql));
    quats_out[4 * i] = qo.w;
    quats_out[4 * i + 1] = qo.x;
    quats_out[4 * i + 2] = qo.y;
    quats_out[4 * i + 3] = qo.z;
    if (opacity_out) opacity_out[i] = opacity[i];
  }
};

// One Gaussian's share of its instance's pose gradient.
template <class T>
struct PoseGrad {
  T q[4];  // ∂L/∂(unnormalised pose quaternion)
  T t[3];  // ∂L/∂translation
};

template <class T>
struct RigidBackwardBody {
  const int32_t* ids;
  const T *means, *quats;
  InstancePosesT<T> poses;
  const T *v_means_world, *v_quats_world;
  T *v_means, *v_quats;

  // Writes Gaussian i's local gradients and returns its instance with its share in `g`, or −1
  // (g zero) when the instance is absent.
  GS_HD int operator()(size_t i, PoseGrad<T>& g) const {
    for (int c = 0; c < 4; ++c) g.q[c] = T(0);
    for (int d = 0; d < 3; ++d) g.t[d] = T(0);
    const int k = instance_of(ids, i, poses);
    if (k < 0) {
      for (int d = 0; d < 3; ++d) v_means[3 * i + d] = T(0);
      for (int c = 0; c < 4; ++c) v_quats[4 * i + c] = T(0);
      return -1;
    }
    const Vec4<T> q = load_quat(poses.quats + 4 * size_t(k));
    const Vec3<T> mu = load_vec3(means + 3 * i);
    const Vec3<T> vm = load_vec3(v_means_world + 3 * i);
    const Vec4<T> vqo = load_quat(v_quats_world + 4 * i);
    const Mat3<T> r = rmath::quat_to_rotmat(q);
    const Vec3<T> v_mu = rmath::mul_transposed(r, vm);
    v_means[3 * i] = v_mu.x;
    v_means[3 * i + 1] = v_mu.y;
    v_means[3 * i + 2] = v_mu.z;

    const T norm = rmath::sqrt_(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z);
    const T inv = T(1) / norm;
    const Vec4<T> qn = {q.w * inv, q.x * inv, q.y * inv, q.z * inv};
    // p = a ⊗ b is linear in each factor, with adjoints v_b = conj(a) ⊗ v_p, v_a = v_p ⊗ conj(b).
    const Vec4<T> v_ql = hamilton(conjugate(qn), vqo);
    v_quats[4 * i] = v_ql.w;
    v_quats[4 * i + 1] = v_ql.x;
    v_quats[4 * i + 2] = v_ql.y;
    v_quats[4 * i + 3] = v_ql.z;

    // The pose quaternion enters through R(q̂) (v_quat_to_rotmat includes the normalisation) and
    // through q̂ in the product (chained through ∂q̂/∂q = (I − q̂q̂ᵀ)/|q| here).
    Mat3<T> v_r;
    const T vmv[3] = {vm.x, vm.y, vm.z}, muv[3] = {mu.x, mu.y, mu.z};
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) v_r.m[a][b] = vmv[a] * muv[b];
    const Vec4<T> from_r = rmath::v_quat_to_rotmat(q, v_r);
    const Vec4<T> v_qn = hamilton(vqo, conjugate(load_quat(quats + 4 * i)));
    const T d = qn.w * v_qn.w + qn.x * v_qn.x + qn.y * v_qn.y + qn.z * v_qn.z;
    g.q[0] = from_r.w + (v_qn.w - qn.w * d) * inv;
    g.q[1] = from_r.x + (v_qn.x - qn.x * d) * inv;
    g.q[2] = from_r.y + (v_qn.y - qn.y * d) * inv;
    g.q[3] = from_r.z + (v_qn.z - qn.z * d) * inv;
    g.t[0] = vm.x;
    g.t[1] = vm.y;
    g.t[2] = vm.z;
    return k;
  }
};

// The backward body without the pose gradients, for parallel_for when the poses are fixed.
template <class T>
struct RigidBackwardLocalKernel {
  RigidBackwardBody<T> body;
  GS_HD void operator()(size_t i) const {
    PoseGrad<T> g;
    body(i, g);
  }
};

}  // namespace gs::rigid_impl
