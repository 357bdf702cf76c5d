// The translations' temporal smoothness on CUDA: the shared body (temporal_smoothness_impl.h).
#include "core/parallel_for.h"
#include "scene/temporal_smoothness.h"
#include "scene/temporal_smoothness_impl.h"

namespace gs {

void add_translation_smoothness_gradient_cuda(const Device& device, size_t instances,
                                              TranslationRow before, TranslationRow own,
                                              TranslationRow after, double scale, float* grads) {
  parallel_for(device, instances * 3,
               temporal_impl::TranslationSmoothnessKernel{before, own, after, scale, grads});
}

}  // namespace gs
