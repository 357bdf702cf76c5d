// Rigid instance transform on CUDA: the shared bodies (rigid_transform_impl.h); the backward's
// per-instance sums are the CUDA-specific part. A rigid node stores its Gaussians mostly grouped
// by instance, so a warp usually holds one instance: it then sums its 32 shares with shuffles
// and adds them with one atomic per component instead of 32 contended ones.
#include "core/cuda_check.h"
#include "core/parallel_for.h"
#include "deform/rigid_transform.h"
#include "deform/rigid_transform_impl.h"

namespace gs {
namespace {

constexpr int kThreads = 256;  // a multiple of the warp size: every warp is full
constexpr unsigned kFullWarp = 0xffffffffu;

__global__ void __launch_bounds__(kThreads)
    rigid_backward_kernel(size_t n, rigid_impl::RigidBackwardBody<float> body, float* v_pose_quats,
                          float* v_pose_translations) {
  // The loop bound is the block's, not the thread's, so every lane of a warp takes the same
  // number of iterations and the warp-wide shuffles below see all 32 lanes.
  for (size_t base = size_t(blockIdx.x) * blockDim.x; base < n;
       base += size_t(blockDim.x) * gridDim.x) {
    const size_t i = base + threadIdx.x;
    rigid_impl::PoseGrad<float> g;
    int k = -1;
    if (i < n) {
      k = body(i, g);
    } else {
      for (int c = 0; c < 4; ++c) g.q[c] = 0.f;
      for (int d = 0; d < 3; ++d) g.t[d] = 0.f;
    }
    int k_max = k;
    for (int off = 16; off > 0; off >>= 1) k_max = max(k_max, __shfl_xor_sync(kFullWarp, k_max, off));
    if (k_max < 0) continue;  // warp-uniform: nothing present in this warp
    float v[7] = {g.q[0], g.q[1], g.q[2], g.q[3], g.t[0], g.t[1], g.t[2]};
    if (__all_sync(kFullWarp, k == k_max || k < 0)) {
      // One instance (absent lanes hold zeros): butterfly sum, lane 0 adds.
      for (int j = 0; j < 7; ++j)
        for (int off = 16; off > 0; off >>= 1) v[j] += __shfl_xor_sync(kFullWarp, v[j], off);
      if ((threadIdx.x & 31u) == 0) {
        for (int j = 0; j < 4; ++j) atomicAdd(v_pose_quats + size_t(k_max) * 4 + j, v[j]);
        for (int j = 0; j < 3; ++j) atomicAdd(v_pose_translations + size_t(k_max) * 3 + j, v[4 + j]);
      }
    } else if (k >= 0) {
      for (int j = 0; j < 4; ++j) atomicAdd(v_pose_quats + size_t(k) * 4 + j, v[j]);
      for (int j = 0; j < 3; ++j) atomicAdd(v_pose_translations + size_t(k) * 3 + j, v[4 + j]);
    }
  }
}

}  // namespace

void rigid_transform_forward_cuda(const Device& device, size_t n, const int32_t* instance_ids,
                                  const float* means_local, const float* quats_local,
                                  const float* opacity_logits,
                                  const InstancePosesT<float>& poses, float* means_world,
                                  float* quats_world, float* opacity_out) {
  parallel_for(device, n,
               rigid_impl::RigidForwardKernel<float>{instance_ids, means_local, quats_local,
                                                     opacity_logits, poses, means_world,
                                                     quats_world, opacity_out});
}

void rigid_transform_backward_cuda(const Device& device, size_t n, const int32_t* instance_ids,
                                   const float* means_local, const float* quats_local,
                                   const InstancePosesT<float>& poses,
                                   const float* v_means_world, const float* v_quats_world,
                                   float* v_means_local, float* v_quats_local,
                                   float* v_pose_quats, float* v_pose_translations) {
  const rigid_impl::RigidBackwardBody<float> body{instance_ids,  means_local,   quats_local,
                                                  poses,         v_means_world, v_quats_world,
                                                  v_means_local, v_quats_local};
  if (!v_pose_quats || poses.count == 0) {
    parallel_for(device, n, rigid_impl::RigidBackwardLocalKernel<float>{body});
    return;
  }
  GS_CHECK(device.is_cuda(), "CUDA rigid backward asked to run on " + device.name());
  const size_t blocks = (n + kThreads - 1) / kThreads;
  const unsigned grid = unsigned(blocks < 65535u * 16u ? blocks : 65535u * 16u);
  rigid_backward_kernel<<<grid, kThreads>>>(n, body, v_pose_quats, v_pose_translations);
  GS_CUDA_CHECK_LAUNCH();
}

}  // namespace gs
