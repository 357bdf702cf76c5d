// The translations' temporal smoothness (see temporal_smoothness.h): CPU backend and dispatch.
#include "scene/temporal_smoothness.h"

#include "core/backend_dispatch.h"
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
  if (runs_on_cuda<float>(device, "temporal smoothness")) {
#ifdef GSTRAIN_WITH_CUDA
    add_translation_smoothness_gradient_cuda(device, instances, before, own, after, scale, grads);
#endif
    return;
  }
  parallel_for(device, instances * 3,
               temporal_impl::TranslationSmoothnessKernel{before, own, after, scale, grads});
}

}  // namespace gs
