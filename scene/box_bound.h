// drivestudio's out-of-bound loss of its deformable nodes: the (deformed) box-local means of an
// instance's Gaussians should stay inside its box. Over N Gaussians with local means x and box
// sides b (of each Gaussian's instance):
//   L = w / (3N) · Σ_i Σ_axes relu(|x| − b / 2)
// drivestudio: w = 1 until step 30000. Each Gaussian writes its own gradient.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/device.h"

namespace gs {

// Adds ∂L/∂x (n × 3, device) to `grads`; `inv_box_size` holds 1 / b per instance (K × 3,
// K = `instances`). Gaussians whose tag is outside [0, K) get no gradient and count in N.
void add_out_of_bound_gradient(const Device& device, size_t n, const float* means,
                               const int32_t* tags, const float* inv_box_size, size_t instances,
                               double weight,
                               float* grads);

// The loss on the host (double), for tests.
double out_of_bound_loss(const std::vector<float>& means, const std::vector<int32_t>& tags,
                         const std::vector<float>& inv_box_size, double weight);

#ifdef GSTRAIN_WITH_CUDA
void add_out_of_bound_gradient_cuda(const Device& device, size_t n, const float* means,
                                    const int32_t* tags, const float* inv_box_size, size_t instances,
                                    float scale,
                                    float* grads);
#endif

}  // namespace gs
