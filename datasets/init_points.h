// Initial points for the Gaussians when the scene's own (COLMAP points3D) are absent or
// replaced: a user PLY, or uniform random points in a box.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gs {

// Appends `count` uniform random points in the box [lo, hi] with uniform random colours in
// [0, 1], reproducibly from `seed`.
void random_points_in_box(size_t count, const std::array<float, 3>& lo,
                          const std::array<float, 3>& hi, uint32_t seed, std::vector<float>& points,
                          std::vector<float>& colors);

// Reads the `vertex` element of a PLY point cloud (ASCII or binary little-endian; the vertex
// element first): x y z, and colour from red/green/blue (8-bit or float), else from 3DGS f_dc_*
// (SH degree 0), else grey. Throws gs::IoError naming the file and what is wrong.
void read_ply_points(const std::string& path, std::vector<float>& points,
                     std::vector<float>& colors);

}  // namespace gs
