// Linear blend skinning on the CPU: the shared bodies (skinning_impl.h) under parallel_for, and
// the per-joint gradient sums over fixed chunks of Gaussians, added in chunk order in double, so
// the result is bit-identical for any thread count.
#include <algorithm>
#include <vector>

#include "core/parallel_for.h"
#include "deform/skinning.h"
#include "deform/skinning_impl.h"

namespace gs {

template <class T>
void skinning_forward_cpu(size_t n, const SkinBindingT<T>& binding, const T* means,
                          const T* quats, const T* opacity_logits, const SkinPosesT<T>& poses,
                          T* means_world, T* quats_world, T* opacity_out) {
  parallel_for(Device::cpu(), n,
               skin_impl::SkinForwardKernel<T>{binding, means, quats, opacity_logits, poses,
                                               means_world, quats_world, opacity_out});
}

template <class T>
void skinning_backward_cpu(size_t n, const SkinBindingT<T>& binding, const T* means,
                           const T* quats, const SkinPosesT<T>& poses, const T* v_means_world,
                           const T* v_quats_world, T* v_means, T* v_quats, T* v_weight_logits,
                           T* v_joints) {
  const skin_impl::SkinBackwardBody<T> body{binding,       means,         quats,   poses,
                                            v_means_world, v_quats_world, v_means, v_quats,
                                            v_weight_logits};
  if (!v_joints || poses.humans == 0) {
    parallel_for(Device::cpu(), n, skin_impl::SkinBackwardLocalKernel<T>{body});
    return;
  }
  // The chunking depends on n only (not on the threads).
  constexpr size_t kMinChunk = 2048, kMaxChunks = 32;
  const size_t chunk = std::max(kMinChunk, (n + kMaxChunks - 1) / kMaxChunks);
  const size_t chunks = (n + chunk - 1) / chunk;
  const size_t stride = poses.humans * kSkeletonJoints * kJointGradStride;
  std::vector<double> partial(chunks * stride, 0.0);
#pragma omp parallel for schedule(dynamic)
  for (int64_t c = 0; c < int64_t(chunks); ++c) {
    double* sums = partial.data() + size_t(c) * stride;
    const size_t end = std::min(n, size_t(c + 1) * chunk);
    for (size_t i = size_t(c) * chunk; i < end; ++i) {
      skin_impl::JointShares<T> s;
      body(i, s);
      if (s.human < 0) continue;
      for (int k = 0; k < kSkinInfluences; ++k) {
        double* row = sums + (size_t(s.human) * kSkeletonJoints + size_t(s.joint[k])) *
                                 kJointGradStride;
        for (int e = 0; e < kJointGradStride; ++e) row[e] += double(s.grad[k][e]);
      }
    }
  }
  for (size_t e = 0; e < stride; ++e) {
    double total = 0;
    for (size_t c = 0; c < chunks; ++c) total += partial[c * stride + e];
    v_joints[e] += T(total);
  }
}

#define GS_INSTANTIATE_SKINNING_CPU(T)                                                       \
  template void skinning_forward_cpu<T>(size_t, const SkinBindingT<T>&, const T*, const T*,  \
                                        const T*, const SkinPosesT<T>&, T*, T*, T*);         \
  template void skinning_backward_cpu<T>(size_t, const SkinBindingT<T>&, const T*, const T*, \
                                         const SkinPosesT<T>&, const T*, const T*, T*, T*,   \
                                         T*, T*);
GS_INSTANTIATE_SKINNING_CPU(float)
GS_INSTANTIATE_SKINNING_CPU(double)
#undef GS_INSTANTIATE_SKINNING_CPU

}  // namespace gs
