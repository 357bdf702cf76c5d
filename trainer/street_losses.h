// The street-scene losses of OmniRe / drivestudio beyond the photometric one (DESIGN.md §5):
// the sky opacity loss, the LiDAR expected-depth loss, and the LiDAR depth image they need.
// Each loss returns its value and accumulates its gradient (v_alpha, v_depth +=), so a trainer
// zeroes the rasterizer's output gradients once and lets every term add to them. Arrays live on
// `device`; T is float or double on the CPU, float on CUDA. Sums are in double; on the CPU
// they are deterministic for a given thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/device.h"
#include "core/camera.h"

namespace gs {

// OmniRe's weights (DESIGN.md §5).
constexpr double kSkyOpacityLossWeight = 0.05;
constexpr double kLidarDepthLossWeight = 0.01;
// drivestudio clamps the opacity into [ε, 1 − ε] before its binary cross-entropy.
constexpr double kSkyOpacityClamp = 1e-6;
// LiDAR depths count where they lie in (min, max) metres; 0 marks a pixel without a hit.
constexpr double kLidarMinDepth = 0.01;
constexpr double kLidarMaxDepth = 80.0;
// The expected depth is depth / max(alpha, ε); below ε the divisor is held (no alpha gradient),
// so a pixel the Gaussians barely cover cannot blow the gradient up.
constexpr double kExpectedDepthAlphaEps = 1e-4;

// weight · mean over pixels of BCE(clamp(alpha, ε, 1−ε), 1 − mask/255): the opacity should be
// 0 on sky pixels (mask 255) and 1 elsewhere (mask 0). alpha and sky_mask are `pixels` long.
// v_alpha (may be null) += the gradient (zero where the clamp holds alpha).
template <class T>
double sky_opacity_loss(const Device& device, size_t pixels, const T* alpha,
                        const uint8_t* sky_mask, double weight, T* v_alpha);

// weight · mean over valid pixels (lidar_depth in (kLidarMinDepth, kLidarMaxDepth)) of
// |depth / max(alpha, alpha_eps) − lidar_depth|, with depth the rasterizer's un-normalised
// Σ zᵢαᵢTᵢ (rasterize.h). v_depth and v_alpha (may be null) += the gradients (subgradient 0 where
// the residual is 0). No valid pixel: 0, no gradient.
template <class T>
double lidar_depth_loss(const Device& device, size_t pixels, const T* depth, const T* alpha,
                        const T* lidar_depth, double weight, T* v_depth, T* v_alpha,
                        double alpha_eps = kExpectedDepthAlphaEps);

// Projects a LiDAR sweep (count × 3 world points, host) into the camera: an H×W (row-major)
// host image of camera-space z of the nearest point landing in each pixel (pixel (i, j) holds
// continuous coordinates [i, i+1) × [j, j+1)), 0 where none does. Points behind the camera
// (z ≤ 0) or off the image are dropped.
std::vector<float> lidar_depth_image(const Camera& camera, const float* points_world,
                                     size_t count);

namespace detail {
#ifdef GSTRAIN_WITH_CUDA
double sky_opacity_loss_cuda(const Device& device, size_t pixels, const float* alpha,
                             const uint8_t* sky_mask, double weight, float* v_alpha);
double lidar_depth_loss_cuda(const Device& device, size_t pixels, const float* depth,
                             const float* alpha, const float* lidar_depth, double weight,
                             float* v_depth, float* v_alpha, double alpha_eps);
#endif
}  // namespace detail

}  // namespace gs
