// Rigid instance transform on the CPU: the shared bodies (rigid_transform_impl.h) under
// parallel_for, and the per-instance pose-gradient sums over fixed chunks of Gaussians added in
// chunk order, so the result is bit-identical for any thread count.
#include <algorithm>
#include <vector>

#include "core/parallel_for.h"
#include "deform/rigid_transform.h"
#include "deform/rigid_transform_impl.h"

namespace gs {

template <class T>
void rigid_transform_forward_cpu(size_t n, const int32_t* instance_ids, const T* means_local,
                                 const T* quats_local, const T* opacity_logits,
                                 const InstancePosesT<T>& poses, T* means_world, T* quats_world,
                                 T* opacity_out) {
  parallel_for(Device::cpu(), n,
               rigid_impl::RigidForwardKernel<T>{instance_ids, means_local, quats_local,
                                                 opacity_logits, poses, means_world, quats_world,
                                                 opacity_out});
}

template <class T>
void rigid_transform_backward_cpu(size_t n, const int32_t* instance_ids, const T* means_local,
                                  const T* quats_local, const InstancePosesT<T>& poses,
                                  const T* v_means_world, const T* v_quats_world,
                                  T* v_means_local, T* v_quats_local, T* v_pose_quats,
                                  T* v_pose_translations) {
  const rigid_impl::RigidBackwardBody<T> body{instance_ids, means_local,   quats_local,
                                              poses,        v_means_world, v_quats_world,
                                              v_means_local, v_quats_local};
  if (!v_pose_quats || poses.count == 0) {
    parallel_for(Device::cpu(), n, rigid_impl::RigidBackwardLocalKernel<T>{body});
    return;
  }
  // The chunking depends on n only (not on the threads), and partial sums are in double.
  constexpr size_t kMinChunk = 4096, kMaxChunks = 64;
  const size_t chunk = std::max(kMinChunk, (n + kMaxChunks - 1) / kMaxChunks);
  const size_t chunks = (n + chunk - 1) / chunk;
  const size_t stride = poses.count * 7;
  std::vector<double> partial(chunks * stride, 0.0);
#pragma omp parallel for schedule(dynamic)
  for (int64_t c = 0; c < int64_t(chunks); ++c) {
    double* sums = partial.data() + size_t(c) * stride;
    const size_t end = std::min(n, size_t(c + 1) * chunk);
    for (size_t i = size_t(c) * chunk; i < end; ++i) {
      rigid_impl::PoseGrad<T> g;
      const int k = body(i, g);
      if (k < 0) continue;
      double* s = sums + size_t(k) * 7;
      for (int j = 0; j < 4; ++j) s[j] += double(g.q[j]);
      for (int j = 0; j < 3; ++j) s[4 + j] += double(g.t[j]);
    }
  }
  for (size_t k = 0; k < poses.count; ++k) {
    double total[7] = {0, 0, 0, 0, 0, 0, 0};
    for (size_t c = 0; c < chunks; ++c)
      for (int j = 0; j < 7; ++j) total[j] += partial[c * stride + k * 7 + j];
    for (int j = 0; j < 4; ++j) v_pose_quats[k * 4 + j] += T(total[j]);
    for (int j = 0; j < 3; ++j) v_pose_translations[k * 3 + j] += T(total[4 + j]);
  }
}

#define GS_INSTANTIATE_RIGID_CPU(T)                                                              \
  template void rigid_transform_forward_cpu<T>(size_t, const int32_t*, const T*, const T*,       \
                                               const T*, const InstancePosesT<T>&, T*, T*, T*);  \
  template void rigid_transform_backward_cpu<T>(size_t, const int32_t*, const T*, const T*,      \
                                                const InstancePosesT<T>&, const T*, const T*, T*, \
                                                T*, T*, T*);
GS_INSTANTIATE_RIGID_CPU(float)
GS_INSTANTIATE_RIGID_CPU(double)
#undef GS_INSTANTIATE_RIGID_CPU

}  // namespace gs
