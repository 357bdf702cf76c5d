// Spherical harmonics → colour, as its own step so scene nodes with different SH degrees can
// each produce colours and share one render pass. Degrees 0–3; training raises the active degree
// over time, coefficients above it are ignored (and get zero gradient).
#pragma once

#include <cstddef>

#include "core/device.h"

namespace gs {

// Coefficients per colour channel for an SH degree: 1, 4, 9, 16.
constexpr int sh_coeff_count(int degree) { return (degree + 1) * (degree + 1); }

// colors[i] = max(0, Σ_k Y_k(dir_i) · sh[i][k] + 0.5), dir_i = normalise(means[i] − campos),
// summing k < (active_degree+1)². Layout: sh is n × (sh_degree+1)² × 3 ([n][k][rgb]), means
// and colors n × 3. Array pointers live on `device`; campos is a host array (world coordinates).
// active_degree is clamped to [0, sh_degree]. Non-finite inputs give non-finite colours, which
// the rasterizer then skips and counts.
void sh_to_color_forward(const Device& device, size_t n, int sh_degree, int active_degree,
                         const float* sh, const float* means, const float campos[3],
                         float* colors);

// Backward of sh_to_color_forward: v_sh (n × (sh_degree+1)² × 3) is overwritten (zero above the
// active degree and where the colour was clamped); v_means (n × 3) is accumulated into (the view
// direction's gradient) and may be null to skip it.
void sh_to_color_backward(const Device& device, size_t n, int sh_degree, int active_degree,
                          const float* sh, const float* means, const float campos[3],
                          const float* v_colors, float* v_sh, float* v_means);

}  // namespace gs
