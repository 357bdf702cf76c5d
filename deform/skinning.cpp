// Linear blend skinning host API: argument checks and dispatch to the CPU or CUDA backend.
#include "deform/skinning.h"

#include <string>
#include <type_traits>

#include "core/backend_dispatch.h"
#include "core/errors.h"

namespace gs {
namespace {

template <class T>
void check_inputs(size_t n, const SkinBindingT<T>& b, const SkinPosesT<T>& poses,
                  const char* what) {
  GS_CHECK(poses.humans == 0 || (poses.transforms && poses.quats),
           std::string(what) + ": null joint transforms for " + std::to_string(poses.humans) +
               " humans");
  GS_CHECK(n == 0 || (b.human && b.joints && b.weight_logits),
           std::string(what) + ": null skinning binding");
}

}  // namespace

template <class T>
void skinning_forward(const Device& device, size_t n, const SkinBindingT<T>& binding,
                      const T* means, const T* quats, const T* opacity_logits,
                      const SkinPosesT<T>& poses, T* means_world, T* quats_world,
                      T* opacity_out) {
  check_inputs(n, binding, poses, "skinning_forward");
  GS_CHECK((opacity_logits == nullptr) == (opacity_out == nullptr),
           "skinning_forward: give both opacity input and output, or neither");
  if (n == 0) return;
  GS_CHECK(means && quats && means_world && quats_world, "skinning_forward: null pointer");
  if (runs_on_cuda<T>(device, "skinning_forward")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      skinning_forward_cuda(device, n, binding, means, quats, opacity_logits, poses, means_world,
                            quats_world, opacity_out);
#endif
    return;
  }
  skinning_forward_cpu<T>(n, binding, means, quats, opacity_logits, poses, means_world,
                          quats_world, opacity_out);
}

template <class T>
void skinning_backward(const Device& device, size_t n, const SkinBindingT<T>& binding,
                       const T* means, const T* quats, const SkinPosesT<T>& poses,
                       const T* v_means_world, const T* v_quats_world, T* v_means, T* v_quats,
                       T* v_weight_logits, T* v_joints) {
  check_inputs(n, binding, poses, "skinning_backward");
  if (n == 0) return;
  GS_CHECK(means && quats && v_means_world && v_quats_world && v_means && v_quats &&
               v_weight_logits,
           "skinning_backward: null pointer");
  if (runs_on_cuda<T>(device, "skinning_backward")) {
#ifdef GSTRAIN_WITH_CUDA
    if constexpr (std::is_same<T, float>::value)
      skinning_backward_cuda(device, n, binding, means, quats, poses, v_means_world,
                             v_quats_world, v_means, v_quats, v_weight_logits, v_joints);
#endif
    return;
  }
  skinning_backward_cpu<T>(n, binding, means, quats, poses, v_means_world, v_quats_world,
                           v_means, v_quats, v_weight_logits, v_joints);
}

#define GS_INSTANTIATE_SKINNING(T)                                                           \
  template void skinning_forward<T>(const Device&, size_t, const SkinBindingT<T>&, const T*, \
                                    const T*, const T*, const SkinPosesT<T>&, T*, T*, T*);   \
  template void skinning_backward<T>(const Device&, size_t, const SkinBindingT<T>&,          \
                                     const T*, const T*, const SkinPosesT<T>&, const T*,     \
                                     const T*, T*, T*, T*, T*);
GS_INSTANTIATE_SKINNING(float)
GS_INSTANTIATE_SKINNING(double)
#undef GS_INSTANTIATE_SKINNING

}  // namespace gs
