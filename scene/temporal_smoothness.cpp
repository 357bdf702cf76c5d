// The translations' temporal smoothness (see temporal_smoothness.h): CPU backend and dispatch.
#include "scene/temporal_smoothness.h"

#include "core/errors.h"
#include "core/parallel_for.h"
#include "scene/temporal_smoothness_impl.h"

namespace gs {

void add_translation_smoothness_gradient(const Device& device, size_t instances,
                                         TranslationRow before, TranslationRow own,
                                         TranslationRow after, size_t valid, double weight,
                                         float* grads) {
  if (instances == 0 || valid == 0 || weight == 0) return;
  const double scale = 2.0 * weight / (3.0 * double(valid));
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    add_translation_smoothness_gradient_cuda(device, instances, before, own, after, scale, grads);
    return;
#else
    throw Error("temporal smoothness on " + device.name() + ": gstrain was built without CUDA");
#endif
  }
  parallel_for(device, instances * 3,
               temporal_impl::TranslationSmoothnessKernel{before, own, after, scale, grads});
}

}  // namespace gs
