// Linear blend skinning on CUDA: the shared bodies (skinning_impl.h); the backward sums each
// Gaussian's joint shares with atomics. A human holds a few thousand Gaussians bound to 24
// joints, so the contention is bounded and the kernel small next to the rasterizer.
#include "core/cuda_check.h"
#include "core/parallel_for.h"
#include "deform/skinning.h"
#include "deform/skinning_impl.h"

namespace gs {
namespace {

struct SkinBackwardAtomicKernel {
  skin_impl::SkinBackwardBody<float> body;
  float* v_joints;
  __device__ void operator()(size_t i) const {
    skin_impl::JointShares<float> s;
    body(i, s);
    if (s.human < 0) return;
    for (int k = 0; k < kSkinInfluences; ++k) {
      float* row =
          v_joints + (size_t(s.human) * kSkeletonJoints + size_t(s.joint[k])) * kJointGradStride;
      for (int e = 0; e < kJointGradStride; ++e) atomicAdd(row + e, s.grad[k][e]);
    }
  }
};

}  // namespace

void skinning_forward_cuda(const Device& device, size_t n, const SkinBindingT<float>& binding,
                           const float* means, const float* quats, const float* opacity_logits,
                           const SkinPosesT<float>& poses, float* means_world,
                           float* quats_world, float* opacity_out) {
  parallel_for(device, n,
               skin_impl::SkinForwardKernel<float>{binding, means, quats, opacity_logits, poses,
                                                   means_world, quats_world, opacity_out});
}

void skinning_backward_cuda(const Device& device, size_t n, const SkinBindingT<float>& binding,
                            const float* means, const float* quats,
                            const SkinPosesT<float>& poses, const float* v_means_world,
                            const float* v_quats_world, float* v_means, float* v_quats,
                            float* v_weight_logits, float* v_joints) {
  const skin_impl::SkinBackwardBody<float> body{binding,       means,         quats,   poses,
                                                v_means_world, v_quats_world, v_means, v_quats,
                                                v_weight_logits};
  if (!v_joints || poses.humans == 0) {
    parallel_for(device, n, skin_impl::SkinBackwardLocalKernel<float>{body});
    return;
  }
  parallel_for(device, n, SkinBackwardAtomicKernel{body, v_joints});
}

}  // namespace gs
