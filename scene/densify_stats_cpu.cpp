// CPU backend of accumulate_densify_stats, and the device dispatch.
#include <algorithm>

#include "scene/densify.h"
#include "scene/densify_stats_impl.h"

namespace gs {

#ifdef GSTRAIN_WITH_CUDA
void accumulate_densify_stats_cuda(const Device& device, size_t n, const float* grad2d,
                                   const int32_t* radii, float sx, float sy, float inv_side,
                                   float* accum, float* count, float* max_screen_size);
#endif

void accumulate_densify_stats(GaussianModel& model, const float* grad2d, const int32_t* radii,
                              const Camera& camera, float sx, float sy) {
  const Device& d = model.device();
  // Screen sizes as drivestudio's max_2Dsize: the radius over the larger side of the image it
  // was seen in, so thresholds mean the same at every resolution of the schedule.
  const float inv_side = 1.0f / float(std::max(std::max(camera.width, camera.height), 1));
  if (d.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    accumulate_densify_stats_cuda(d, model.count(), grad2d, radii, sx, sy, inv_side,
                                  model.absgrad_accum(), model.grad_count(),
                                  model.max_screen_size());
    return;
#else
    throw Error("this gstrain was built without CUDA", "use --device cpu");
#endif
  }
  accumulate_densify_stats_impl(d, model.count(), grad2d, radii, sx, sy, inv_side,
                                model.absgrad_accum(), model.grad_count(),
                                model.max_screen_size());
}

}  // namespace gs
