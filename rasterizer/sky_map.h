// The sky of OmniRe-style street scenes (DESIGN.md §5): an environment cube map looked up by the
// world direction of each pixel's ray, composited behind the rendered Gaussians:
//   out = rgb + sky(direction) · (1 − alpha).
// As drivestudio's EnvLight: 6 faces × R × R × RGB raw floats, initialised to 0.5, no
// activation, bilinear filtering. Forward and backward on either device (sky_map_impl.h).
//
// Cube-map convention (OpenGL's, which nvdiffrast — EnvLight's sampler — follows):
// faces in the order +X, −X, +Y, −Y, +Z, −Z, the face of the largest |component| of the
// direction d (ties: z over y over x only when strictly larger, as nvdiffrast). With ma that
// component and (sc, tc) per face
//     +X: (−z, −y)   −X: (+z, −y)   +Y: (+x, +z)   −Y: (+x, −z)   +Z: (+x, −y)   −Z: (−x, −y)
// the face coordinates are s = (sc/|ma| + 1)/2 (→ column) and t = (tc/|ma| + 1)/2 (→ row),
// texel (row, col) centred at ((col + 0.5)/R, (row + 0.5)/R). Layout: texels[face][row][col][c].
// Filtering is bilinear within the face, clamped to its edge texels (nvdiffrast blends across
// the seam instead; the difference is a half-texel band along the cube's edges).
// Directions are world directions: for a z-up world (Waymo / drivestudio) the sky is mostly on
// the +Z face.
#pragma once

#include <cstddef>

#include "core/device.h"
#include "core/camera.h"

namespace gs {

constexpr int kSkyFaces = 6;
constexpr float kSkyInitialValue = 0.5f;  // EnvLight's initial texel value

// Floats in a sky map of resolution R: 6·R·R·3.
constexpr size_t sky_map_floats(int resolution) {
  return size_t(kSkyFaces) * size_t(resolution) * size_t(resolution) * 3;
}

// out (H×W×3) = rgb + sky · (1 − alpha) for camera's H×W pixels; the pixel (i, j) looks along
// camera→world · normalise(((i+0.5) − cx)/fx, ((j+0.5) − cy)/fy, 1). rgb H×W×3, alpha H×W,
// texels sky_map_floats(resolution), all on `device`. out may alias rgb. sky_out (H×W×3, the
// looked-up sky colour) may be null. T is float or double on the CPU, float on CUDA.
template <class T>
void sky_composite_forward(const Device& device, const Camera& camera, int resolution,
                           const T* texels, const T* rgb, const T* alpha, T* out, T* sky_out);

// Backward of sky_composite_forward. ∂L/∂rgb is ∂L/∂out unchanged (use v_out as it is).
// v_alpha (H×W) += −Σ_c sky_c · v_out_c; v_texels (sky_map_floats) += the bilinear weights ·
// (1 − alpha) · v_out. Either output may be null. The CPU adds the texel gradients in pixel
// order (one thread: deterministic); CUDA uses atomics.
template <class T>
void sky_composite_backward(const Device& device, const Camera& camera, int resolution,
                            const T* texels, const T* alpha, const T* v_out, T* v_alpha,
                            T* v_texels);

// Backends (sky_map_cpu.cpp, sky_map_cuda.cu).
template <class T>
void sky_composite_forward_cpu(const Camera& camera, int resolution, const T* texels, const T* rgb,
                               const T* alpha, T* out, T* sky_out);
template <class T>
void sky_composite_backward_cpu(const Camera& camera, int resolution, const T* texels,
                                const T* alpha, const T* v_out, T* v_alpha, T* v_texels);
#ifdef GSTRAIN_WITH_CUDA
void sky_composite_forward_cuda(const Device& device, const Camera& camera, int resolution,
                                const float* texels, const float* rgb, const float* alpha,
                                float* out, float* sky_out);
void sky_composite_backward_cuda(const Device& device, const Camera& camera, int resolution,
                                 const float* texels, const float* alpha, const float* v_out,
                                 float* v_alpha, float* v_texels);
#endif

}  // namespace gs
