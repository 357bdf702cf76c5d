// Internal: the per-backend entry points behind rasterize.h and sh.h. The CPU backend is
// templated on the scalar (float for the product, double for gradient tests); the CUDA backend
// (rasterize_cuda.cu, sh_cuda.cu) is float only and exists when built with CUDA.
#pragma once

#include <cstddef>

#include "core/device.h"
#include "core/camera.h"
#include "rasterizer/rasterize.h"

namespace gs {

template <class T>
RasterForwardT<T> rasterize_forward_cpu(const GaussianInputsT<T>& gaussians, const Camera& camera,
                                        const RasterSettings& settings);
template <class T>
RasterGradientsT<T> rasterize_backward_cpu(const GaussianInputsT<T>& gaussians,
                                           const Camera& camera, const RasterSettings& settings,
                                           const RasterForwardT<T>& forward, const T* v_rgb,
                                           const T* v_alpha, const T* v_depth);
template <class T>
void sh_to_color_forward_cpu(size_t n, int sh_degree, int active_degree, const T* sh,
                             const T* means, const T campos[3], T* colors);
template <class T>
void sh_to_color_backward_cpu(size_t n, int sh_degree, int active_degree, const T* sh,
                              const T* means, const T campos[3], const T* v_colors, T* v_sh,
                              T* v_means);

#ifdef GSTRAIN_WITH_CUDA
RasterForward rasterize_forward_cuda(const Device& device, const GaussianInputs& gaussians,
                                     const Camera& camera, const RasterSettings& settings);
RasterGradients rasterize_backward_cuda(const Device& device, const GaussianInputs& gaussians,
                                        const Camera& camera, const RasterSettings& settings,
                                        const RasterForward& forward, const float* v_rgb,
                                        const float* v_alpha, const float* v_depth);
void sh_to_color_forward_cuda(const Device& device, size_t n, int sh_degree, int active_degree,
                              const float* sh, const float* means, const float campos[3],
                              float* colors);
void sh_to_color_backward_cuda(const Device& device, size_t n, int sh_degree, int active_degree,
                               const float* sh, const float* means, const float campos[3],
                               const float* v_colors, float* v_sh, float* v_means);
#endif

// Argument checks shared by both backends (throw gs::Error naming what is wrong).
void validate_raster_call(const Device& device, const GaussianInputs& gaussians,
                          const Camera& camera, const RasterSettings& settings);

}  // namespace gs
