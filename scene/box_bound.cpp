// The out-of-bound loss (see box_bound.h): CPU backend, dispatch and the host loss.
#include "scene/box_bound.h"

#include <algorithm>
#include <cmath>

#include "core/backend_dispatch.h"
#include "core/errors.h"
#include "core/parallel_for.h"
#include "scene/box_bound_impl.h"

namespace gs {

void add_out_of_bound_gradient(const Device& device, size_t n, const float* means,
                               const int32_t* tags, const float* inv_box_size, size_t instances,
                               double weight,
                               float* grads) {
  if (n == 0 || weight == 0) return;
  const float scale = float(weight / (3.0 * double(n)));
  if (runs_on_cuda<float>(device, "out-of-bound loss")) {
#ifdef GSTRAIN_WITH_CUDA
    add_out_of_bound_gradient_cuda(device, n, means, tags, inv_box_size, instances, scale,
                                   grads);
#endif
    return;
  }
  parallel_for(device, n,
               box_bound_impl::OutOfBoundKernel{means, tags, inv_box_size, instances, scale, grads});
}

double out_of_bound_loss(const std::vector<float>& means, const std::vector<int32_t>& tags,
                         const std::vector<float>& inv_box_size, double weight) {
  const size_t n = tags.size(), instances = inv_box_size.size() / 3;
  if (n == 0) return 0;
  double sum = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t a = 0; a < 3; ++a) {
      if (tags[i] < 0 || size_t(tags[i]) >= instances) continue;
      const double half = 0.5 / double(inv_box_size[3 * size_t(tags[i]) + a]);
      sum += std::max(0.0, std::abs(double(means[3 * i + a])) - half);
    }
  return weight * sum / (3.0 * double(n));
}

}  // namespace gs
