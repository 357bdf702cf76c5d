// Reading and writing Gaussian sets as PLY files in the INRIA 3DGS layout (DESIGN.md §7), the
// format graphdeco, gsplat and common splat viewers exchange.
//
// Written files are binary little-endian with all-float properties in the INRIA order:
//   x y z nx ny nz f_dc_0..2 f_rest_0..M-1 opacity scale_0..2 rot_0..3
// where f_rest is channel-major: f_rest_j holds channel c = j / (K−1), coefficient
// k = j % (K−1) + 1 of the (d+1)² = K SH coefficients (M = 3(K−1): 0, 9, 24 or 45).
//
// The reader is lenient about what real files do differently (properties in any order, any
// numeric type, extra properties and elements, no normals, ASCII) and strict about what makes a
// file unusable (bad magic, missing properties, truncated data, big-endian, bad counts): each
// such file is refused with a gs::IoError naming the file, what is wrong, and what to do.
#pragma once

#include <string>

#include "scene/gaussian_cloud.h"

namespace gs {

// Opacity logits of ±infinity are read as ±this: exporters that quantise opacity to 8 bits
// write sigmoid⁻¹(255/255) = +inf (biker.ply has 198), which means "opaque", but the rasterizer
// skips non-finite inputs and the optimizer cannot step from infinity. sigmoid(12) = 1 − 6e-6.
constexpr float kSaturatedOpacityLogit = 12.f;

// Reads the `vertex` element of a 3DGS PLY file. The SH degree is inferred from the number of
// f_rest_* properties. Infinite opacity logits are clamped (above, logged once); Gaussians with
// other non-finite values are kept, with a logged warning.
GaussianCloud read_ply(const std::string& path);

// Writes `cloud` atomically (to `path`.tmp, then renamed over `path`); creates the parent
// directory if needed. Throws gs::IoError when the file cannot be written.
void write_ply(const std::string& path, const GaussianCloud& cloud);

}  // namespace gs
