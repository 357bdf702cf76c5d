// drivestudio's temporal smoothness of instance translations (RigidNodes / DeformableNodes
// reg.temporal_smooth_reg.trans): for the rendered frame f and a distance d, over the V
// instances present in f − d, f and f + d,
//   L = w / (3V) · Σ_k Σ_axes |t[f+d] + t[f−d] − 2 t[f]|
// with the neighbours detached, so only t[f] gets a gradient: ∂L/∂t[f] = −2w / (3V) · sign(·).
// The rows are the pose table's (device) rows of the three frames; the kernel touches no host
// memory, so the step queues it without a synchronisation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace gs {

// One frame row of K instances: translations (K × 3) and presence flags (K).
struct TranslationRow {
  const float* translations;
  const uint8_t* present;
};

// Adds ∂L/∂t[f] (K × 3, device) to `grads` for the instances present in all three rows;
// `valid` is their number V (the caller counts it from its host copy of the flags; 0: nothing).
void add_translation_smoothness_gradient(const Device& device, size_t instances,
                                         TranslationRow before, TranslationRow own,
                                         TranslationRow after, size_t valid, double weight,
                                         float* grads);

#ifdef GSTRAIN_WITH_CUDA
void add_translation_smoothness_gradient_cuda(const Device& device, size_t instances,
                                              TranslationRow before, TranslationRow own,
                                              TranslationRow after, double scale, float* grads);
#endif

}  // namespace gs
