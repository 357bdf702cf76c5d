// GaussianCloud: a host-side set of Gaussians in stored (pre-activation) form, as read from or
// written to a PLY file, plus its upload to device buffers for rendering.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/device.h"
#include "rasterizer/sh.h"  // sh_coeff_count

namespace gs {

struct GaussianCloud {
  int sh_degree = 0;                  // 0..3
  std::vector<float> means;           // N×3
  std::vector<float> log_scales;      // N×3
  std::vector<float> quats;           // N×4, (w, x, y, z), not necessarily normalised
  std::vector<float> opacity_logits;  // N
  std::vector<float> sh;              // N × (d+1)² × 3, layout [n][k][rgb]

  size_t size() const { return opacity_logits.size(); }
  int coeffs() const { return sh_coeff_count(sh_degree); }

  // Sizes every array for n Gaussians at the given degree (new values are zero).
  void resize(size_t n, int degree);

  // Appends Gaussian i of `other` (same SH degree), or all of it.
  void append(const GaussianCloud& other, size_t i);
  void append(const GaussianCloud& other);

  // Throws gs::Error naming `what` (e.g. the file) when the degree is outside 0..3 or the array
  // sizes disagree with size() and the degree.
  void check_valid(const std::string& what = "Gaussian cloud") const;

  // Gaussians with a NaN or infinite value in any parameter (the rasterizer skips them;
  // loaders warn about them rather than refuse the whole file).
  size_t count_nonfinite() const;
};

// Where most of the cloud is: per-axis quantiles of the means, so that a few far-away floaters
// (common in real captures) do not move the centre or blow up the extent.
struct RobustBounds {
  std::array<float, 3> center{};  // per-axis median
  std::array<float, 3> lo{}, hi{};  // per-axis `quantile` and 1−`quantile`
  float radius = 0.f;             // median distance of the means from `center`
};
RobustBounds robust_bounds(const GaussianCloud& cloud, float quantile = 0.05f);

// The cloud's parameters on a device (MemCategory::params), ready for the rasterizer.
struct DeviceGaussians {
  size_t count = 0;
  int sh_degree = 0;
  Buffer<float> means, log_scales, quats, opacity_logits, sh;

  static DeviceGaussians upload(const Device& device, const GaussianCloud& cloud);
};

}  // namespace gs
