// The fused Adam optimizer of the Gaussian parameters (one kernel per parameter group: moments,
// bias-corrected update and gradient reset in one pass) and the 3DGS position-lr schedule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/device.h"

namespace gs {

struct AdamSettings {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-15;     // 3DGS's value (torch's default is 1e-8)
  bool zero_grad = true;  // zero the gradients after the step, in the same pass
};

// One parameter group: contiguous float arrays on the device of the step (allocated at
// capacity; only the first `count` floats are active). The learning rate is per group.
struct ParamGroup {
  std::string name;  // "means", "scales", ... (for logs and errors)
  float* params = nullptr;
  float* grads = nullptr;
  float* m = nullptr;  // first moment
  float* v = nullptr;  // second moment
  size_t count = 0;    // active floats
  double lr = 0;
  // Optional per-row mask (device pointer, count / row_size bytes): rows whose byte is non-zero
  // are left untouched (parameters and moments), e.g. Gaussians not seen this step. Their
  // gradients are still zeroed when AdamSettings::zero_grad is set.
  size_t row_size = 1;  // floats per row (3 for means, 48 for SH degree 3, ...)
  const uint8_t* skip_rows = nullptr;
};

// One Adam step of `group` (torch semantics, bias-corrected):
//   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,
//   p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε),
// where t = `step` ≥ 1 is the number of this update. All rows share t: rows added by
// densification start with zeroed moments (adam_reset_rows) as in 3DGS.
void adam_step(const Device& device, ParamGroup& group, int step, const AdamSettings& settings);

// Zeroes m and v of rows [row_begin, row_end) (new Gaussians, or an opacity reset).
void adam_reset_rows(const Device& device, ParamGroup& group, size_t row_begin, size_t row_end);

// The 3DGS position learning rate: log-linear from lr_init (step 0) to lr_final (max_steps and
// after); with delay_steps > 0 it is further scaled by a warm-up that rises from delay_mult to
// 1 along a quarter sine over the first delay_steps. Both rates 0 gives 0.
double exponential_lr(int step, double lr_init, double lr_final, int max_steps, int delay_steps = 0,
                      double delay_mult = 1.0);

}  // namespace gs
