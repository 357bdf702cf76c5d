// SH → colour host API: argument checks and dispatch to the CPU or CUDA backend.
#include "rasterizer/sh.h"

#include <algorithm>

#include "core/errors.h"
#include "rasterizer/rasterize_backends.h"

namespace gs {
namespace {

void check_sh_args(size_t n, int sh_degree, const void* sh, const void* means, const float* campos,
                   const void* colors) {
  GS_CHECK(sh_degree >= 0 && sh_degree <= 3,
           "SH degree must be 0..3, got " + std::to_string(sh_degree));
  GS_CHECK(campos != nullptr, "camera position is null");
  if (n > 0) GS_CHECK(sh && means && colors, "null SH/means/colour pointer for n > 0");
}

}  // namespace

void sh_to_color_forward(const Device& device, size_t n, int sh_degree, int active_degree,
                         const float* sh, const float* means, const float campos[3],
                         float* colors) {
  check_sh_args(n, sh_degree, sh, means, campos, colors);
  active_degree = std::clamp(active_degree, 0, sh_degree);
  if (n == 0) return;
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    sh_to_color_forward_cuda(device, n, sh_degree, active_degree, sh, means, campos, colors);
    return;
#else
    throw Error("sh_to_color_forward on " + device.name() + ": gstrain was built without CUDA",
                "use the CPU device or rebuild with CUDA");
#endif
  }
  sh_to_color_forward_cpu<float>(n, sh_degree, active_degree, sh, means, campos, colors);
}

void sh_to_color_backward(const Device& device, size_t n, int sh_degree, int active_degree,
                          const float* sh, const float* means, const float campos[3],
                          const float* v_colors, float* v_sh, float* v_means) {
  check_sh_args(n, sh_degree, sh, means, campos, v_sh);
  GS_CHECK(n == 0 || v_colors, "null colour gradient for n > 0");
  active_degree = std::clamp(active_degree, 0, sh_degree);
  if (n == 0) return;
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    sh_to_color_backward_cuda(device, n, sh_degree, active_degree, sh, means, campos, v_colors,
                              v_sh, v_means);
    return;
#else
    throw Error("sh_to_color_backward on " + device.name() + ": gstrain was built without CUDA",
                "use the CPU device or rebuild with CUDA");
#endif
  }
  sh_to_color_backward_cpu<float>(n, sh_degree, active_degree, sh, means, campos, v_colors, v_sh,
                                  v_means);
}

}  // namespace gs
