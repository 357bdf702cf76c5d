// Initial Gaussians from points (3DGS style): isotropic scale from the mean squared distance to
// the three nearest neighbours, identity rotation, opacity 0.1, SH DC from the point colour.
#pragma once

#include <cstdint>
#include <vector>

#include "scene/gaussian_cloud.h"

namespace gs {

// points and colors are M×3 (colours in [0, 1]). When M > max_count a deterministic random
// subset of max_count points is used (seeded by `seed`).
GaussianCloud gaussians_from_points(const std::vector<float>& points,
                                    const std::vector<float>& colors, int sh_degree,
                                    size_t max_count, uint64_t seed);

// Mean squared distance of each point to its k nearest other points (k ≤ M−1), via a uniform
// grid; exact for the neighbours it returns.
std::vector<float> mean_sq_dist_knn(const std::vector<float>& points, int k);

}  // namespace gs
