// drivestudio's sharp-shape regulariser (from PhysGaussian), on every Gaussian node of its OmniRe
// config: needle-like Gaussians, whose largest scale is more than `limit` times their smallest,
// are pulled back. Over a node's N Gaussians with scales s_i (s = exp(log_scales)):
//   L = w / N · Σ_i max(max(s_i) / min(s_i), limit) − limit
// drivestudio: w = 1, limit 10, applied every 10th step. Each Gaussian writes its own gradient.
#pragma once

#include <cstddef>
#include <vector>

#include "core/device.h"

namespace gs {

// Adds ∂L/∂log_scales of the first n Gaussians (n × 3, device) to `grads` (n × 3).
void add_sharp_shape_gradient(const Device& device, size_t n, const float* log_scales,
                              double limit, double weight, float* grads);

// The loss on the host (double), for tests and logs.
double sharp_shape_loss(const std::vector<float>& log_scales, double limit, double weight);

// drivestudio's max_s_square_reg of its SMPL nodes (weight 0.05 in OmniRe): L = w / N · Σ_i
// max(s_i)², against large Gaussians on the body. Adds ∂L/∂log_scales to `grads`.
void add_max_scale_square_gradient(const Device& device, size_t n, const float* log_scales,
                                   double weight, float* grads);
double max_scale_square_loss(const std::vector<float>& log_scales, double weight);

#ifdef GSTRAIN_WITH_CUDA
void add_max_scale_square_gradient_cuda(const Device& device, size_t n, const float* log_scales,
                                        float scale, float* grads);
void add_sharp_shape_gradient_cuda(const Device& device, size_t n, const float* log_scales,
                                   float limit, float scale, float* grads);
#endif

}  // namespace gs
