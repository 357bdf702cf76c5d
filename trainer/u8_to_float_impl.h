// 8-bit → float [0, 1] conversion, one body for both backends.
#pragma once

#include <cstdint>

#include "core/parallel_for.h"

namespace gs {
GS_BACKEND_NS_BEGIN  // one symbol per backend (see core/parallel_for.h)

inline void u8_to_float_impl(const Device& device, size_t n, const uint8_t* src, float* dst) {
  parallel_for(device, n, [=] GS_HD(size_t i) { dst[i] = float(src[i]) * (1.0f / 255.0f); });
}

GS_BACKEND_NS_END
}  // namespace gs
