// Rasterizer host API: argument checks and dispatch to the CPU or CUDA backend.
#include "rasterizer/rasterize.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/errors.h"
#include "rasterizer/rasterize_backends.h"

namespace gs {

void validate_raster_call(const Device& device, const GaussianInputs& g, const Camera& camera,
                          const RasterSettings& settings) {
  const std::string who = "rasterize (camera '" + camera.name + "')";
  // Tile ids (plus one padding id) must fit the 32 high bits of a sort key.
  if (camera.width <= 0 || camera.height <= 0 || camera.width > (1 << 18) ||
      camera.height > (1 << 18))
    throw Error(who + ": bad image size " + std::to_string(camera.width) + "x" +
                    std::to_string(camera.height),
                "width and height must be in 1..262144");
  if (!(camera.fx > 0) || !(camera.fy > 0) || !std::isfinite(camera.fx) ||
      !std::isfinite(camera.fy) || !std::isfinite(camera.cx) || !std::isfinite(camera.cy))
    throw Error(who + ": bad intrinsics (fx, fy must be positive and finite)");
  for (float v : camera.world_to_camera)
    if (!std::isfinite(v)) throw Error(who + ": non-finite world_to_camera");
  if (!(settings.near_plane > 0)) throw Error(who + ": near_plane must be positive");
  // Gaussian ids are stored as int32 in the sorted instance list.
  if (g.count > size_t(std::numeric_limits<int32_t>::max()))
    throw Error(who + ": " + std::to_string(g.count) + " Gaussians exceed the 2^31-1 limit",
                "render the scene in parts");
  if (g.count > 0 && !(g.means && g.log_scales && g.quats && g.opacity_logits && g.colors))
    throw Error(who + ": a Gaussian input pointer is null");
  (void)device;
}

RasterForward rasterize_forward(const Device& device, const GaussianInputs& gaussians,
                                const Camera& camera, const RasterSettings& settings) {
  validate_raster_call(device, gaussians, camera, settings);
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    return rasterize_forward_cuda(device, gaussians, camera, settings);
#else
    throw Error("rasterize_forward on " + device.name() + ": gstrain was built without CUDA",
                "use the CPU device or rebuild with CUDA");
#endif
  }
  return rasterize_forward_cpu<float>(gaussians, camera, settings);
}

RasterGradients rasterize_backward(const Device& device, const GaussianInputs& gaussians,
                                   const Camera& camera, const RasterSettings& settings,
                                   const RasterForward& forward, const float* v_rgb,
                                   const float* v_alpha, const float* v_depth) {
  validate_raster_call(device, gaussians, camera, settings);
  if (forward.width != camera.width || forward.height != camera.height ||
      forward.radii.size() != gaussians.count)
    throw Error("rasterize_backward: the forward result does not match these Gaussians/camera");
  if (forward.radii.size() > 0 && forward.radii.device() != device)
    throw Error("rasterize_backward: the forward result lives on " +
                forward.radii.device().name() + ", not " + device.name());
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    return rasterize_backward_cuda(device, gaussians, camera, settings, forward, v_rgb, v_alpha,
                                   v_depth);
#else
    throw Error("rasterize_backward on " + device.name() + ": gstrain was built without CUDA",
                "use the CPU device or rebuild with CUDA");
#endif
  }
  return rasterize_backward_cpu<float>(gaussians, camera, settings, forward, v_rgb, v_alpha,
                                       v_depth);
}

}  // namespace gs
