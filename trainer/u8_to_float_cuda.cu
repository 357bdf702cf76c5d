// CUDA instantiation of the 8-bit → float conversion.
#include "trainer/u8_to_float_impl.h"

namespace gs {
void u8_to_float_cuda(const Device& device, size_t n, const uint8_t* src, float* dst) {
  u8_to_float_impl(device, n, src, dst);
}
}  // namespace gs
