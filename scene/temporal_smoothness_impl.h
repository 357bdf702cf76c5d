// Kernel body of the translations' temporal smoothness (temporal_smoothness.h), shared by both
// backends. The second difference is formed in double so both backends take the same sign.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/hd.h"
#include "scene/temporal_smoothness.h"

namespace gs::temporal_impl {

struct TranslationSmoothnessKernel {
  TranslationRow before, own, after;
  double scale;  // 2w / (3V)
  float* grads;  // K × 3, added to

  GS_HD void operator()(size_t i) const {
    const size_t k = i / 3;
    if (!before.present[k] || !own.present[k] || !after.present[k]) return;
    const double r = double(after.translations[i]) + double(before.translations[i]) -
                     2.0 * double(own.translations[i]);
    grads[i] -= float(scale * double((r > 0) - (r < 0)));
  }
};

}  // namespace gs::temporal_impl
