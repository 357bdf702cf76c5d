// The sharp-shape regulariser (see sharp_shape.h): CPU backend, dispatch and the host loss.
#include "scene/sharp_shape.h"

#include <algorithm>
#include <cmath>

#include "core/backend_dispatch.h"
#include "core/errors.h"
#include "core/parallel_for.h"
#include "scene/sharp_shape_impl.h"

namespace gs {

void add_sharp_shape_gradient(const Device& device, size_t n, const float* log_scales,
                              double limit, double weight, float* grads) {
  if (n == 0 || weight == 0) return;
  const float scale = float(weight / double(n));
  if (runs_on_cuda<float>(device, "sharp-shape regulariser")) {
#ifdef GSTRAIN_WITH_CUDA
    add_sharp_shape_gradient_cuda(device, n, log_scales, float(limit), scale, grads);
#endif
    return;
  }
  parallel_for(device, n,
               sharp_shape_impl::SharpShapeKernel{log_scales, float(limit), scale, grads});
}

void add_max_scale_square_gradient(const Device& device, size_t n, const float* log_scales,
                                   double weight, float* grads) {
  if (n == 0 || weight == 0) return;
  const float scale = float(weight / double(n));
  if (runs_on_cuda<float>(device, "scale regulariser")) {
#ifdef GSTRAIN_WITH_CUDA
    add_max_scale_square_gradient_cuda(device, n, log_scales, scale, grads);
#endif
    return;
  }
  parallel_for(device, n, sharp_shape_impl::MaxScaleSquareKernel{log_scales, scale, grads});
}

double max_scale_square_loss(const std::vector<float>& log_scales, double weight) {
  const size_t n = log_scales.size() / 3;
  if (n == 0) return 0;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const float* ls = &log_scales[3 * i];
    sum += std::exp(2.0 * double(*std::max_element(ls, ls + 3)));
  }
  return weight * sum / double(n);
}

double sharp_shape_loss(const std::vector<float>& log_scales, double limit, double weight) {
  const size_t n = log_scales.size() / 3;
  if (n == 0) return 0;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const float* ls = &log_scales[3 * i];
    const double r = std::exp(double(*std::max_element(ls, ls + 3)) -
                              double(*std::min_element(ls, ls + 3)));
    sum += std::max(r, limit) - limit;
  }
  return weight * sum / double(n);
}

}  // namespace gs
