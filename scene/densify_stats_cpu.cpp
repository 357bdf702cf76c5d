// CPU backend of accumulate_densify_stats, and the device dispatch.
#include "scene/densify.h"
#include "scene/densify_stats_impl.h"

namespace gs {

#ifdef GSTRAIN_WITH_CUDA
void accumulate_densify_stats_cuda(const Device& device, size_t n, const float* grad2d,
                                   const int32_t* radii, float sx, float sy, float* accum,
                                   float* count, float* max_radius);
#endif

void accumulate_densify_stats(GaussianModel& model, const float* grad2d, const int32_t* radii,
                              float sx, float sy) {
  const Device& d = model.device();
  if (d.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    accumulate_densify_stats_cuda(d, model.count(), grad2d, radii, sx, sy, model.absgrad_accum(),
                                  model.grad_count(), model.max_radius());
    return;
#else
    throw Error("this gstrain was built without CUDA", "use --device cpu");
#endif
  }
  accumulate_densify_stats_impl(d, model.count(), grad2d, radii, sx, sy, model.absgrad_accum(),
                                model.grad_count(), model.max_radius());
}

}  // namespace gs
