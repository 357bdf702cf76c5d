// Initial Gaussians from points (see init_gaussians.h).
#include "scene/init_gaussians.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <random>
#include <unordered_map>

#include "core/errors.h"

namespace gs {

namespace {
constexpr float kShC0 = 0.28209479177387814f;  // Y_0^0
}

std::vector<float> mean_sq_dist_knn(const std::vector<float>& pts, int k) {
  const size_t m = pts.size() / 3;
  std::vector<float> out(m, 0.0f);
  if (m < 2) {
    std::fill(out.begin(), out.end(), 1e-4f);
    return out;
  }
  k = std::min<int>(k, int(m) - 1);
  float lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  for (size_t i = 0; i < m; ++i)
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], pts[3 * i + a]);
      hi[a] = std::max(hi[a], pts[3 * i + a]);
    }
  // Cell size so that a cell holds a few points on average, over the axes the points actually
  // spread along (collinear or planar sets, common for synthetic or aerial data, would
  // otherwise get microscopic cells and a search over millions of empty ones).
  float ext[3], max_ext = 0;
  for (int a = 0; a < 3; ++a) max_ext = std::max(max_ext, ext[a] = hi[a] - lo[a]);
  double vol = 1;
  int dims = 0;
  for (int a = 0; a < 3; ++a)
    if (ext[a] > 1e-6f * max_ext) {
      vol *= double(ext[a]);
      ++dims;
    }
  const float cell = dims == 0 ? 1.0f : float(std::pow(vol * 4.0 / double(m), 1.0 / dims));
  auto coord = [&](float v, int a) { return int(std::floor((v - lo[a]) / cell)); };
  int cells[3];  // grid size per axis; coordinates outside [0, cells) hold no points
  for (int a = 0; a < 3; ++a) cells[a] = coord(hi[a], a) + 1;
  const int max_cells = std::max({cells[0], cells[1], cells[2]});
  auto key = [&](int x, int y, int z) {
    return (int64_t(x) * 73856093) ^ (int64_t(y) * 19349663) ^ (int64_t(z) * 83492791);
  };
  std::unordered_map<int64_t, std::vector<uint32_t>> grid;
  grid.reserve(m);
  for (size_t i = 0; i < m; ++i)
    grid[key(coord(pts[3 * i], 0), coord(pts[3 * i + 1], 1), coord(pts[3 * i + 2], 2))]
        .push_back(uint32_t(i));

#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t ii = 0; ii < int64_t(m); ++ii) {
    const size_t i = size_t(ii);
    const float* p = &pts[3 * i];
    const int c[3] = {coord(p[0], 0), coord(p[1], 1), coord(p[2], 2)};
    std::vector<float> best;  // squared distances of every point seen so far
    // Visit shells of cells at Chebyshev distance r = 0, 1, 2, … (clamped to the grid) until
    // k neighbours are found and the k-th is within the searched reach, or the grid is done.
    for (int r = 0;; ++r) {
      int from[3], to[3];
      for (int a = 0; a < 3; ++a) {
        from[a] = std::max(-r, -c[a]);
        to[a] = std::min(r, cells[a] - 1 - c[a]);
      }
      for (int dx = from[0]; dx <= to[0]; ++dx)
        for (int dy = from[1]; dy <= to[1]; ++dy)
          for (int dz = from[2]; dz <= to[2]; ++dz) {
            if (std::max({std::abs(dx), std::abs(dy), std::abs(dz)}) != r) continue;
            auto it = grid.find(key(c[0] + dx, c[1] + dy, c[2] + dz));
            if (it == grid.end()) continue;
            for (uint32_t j : it->second) {
              if (j == i) continue;
              const float* q = &pts[3 * size_t(j)];
              best.push_back((p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) +
                             (p[2] - q[2]) * (p[2] - q[2]));
            }
          }
      const bool searched_all = r >= max_cells;
      if (int(best.size()) >= k) {
        std::partial_sort(best.begin(), best.begin() + k, best.end());
        // Every point within r·cell of p lies in the cells searched so far.
        const float reach = float(r) * cell;
        if (best[size_t(k) - 1] <= reach * reach || searched_all) break;
      } else if (searched_all) {
        break;
      }
    }
    const int found = std::min<int>(k, int(best.size()));
    double s = 0;
    for (int q = 0; q < found; ++q) s += best[size_t(q)];
    out[i] = found > 0 ? float(s / found) : 1e-4f;
  }
  return out;
}

GaussianCloud gaussians_from_points(const std::vector<float>& points,
                                    const std::vector<float>& colors, int sh_degree,
                                    size_t max_count, uint64_t seed) {
  GS_CHECK(points.size() % 3 == 0, "points must be M×3");
  GS_CHECK(colors.empty() || colors.size() == points.size(), "colors must match points");
  const size_t m = points.size() / 3;
  std::vector<size_t> pick(m);
  std::iota(pick.begin(), pick.end(), size_t(0));
  if (m > max_count) {
    std::mt19937_64 rng(seed);
    std::shuffle(pick.begin(), pick.end(), rng);
    pick.resize(max_count);
    std::sort(pick.begin(), pick.end());
  }
  std::vector<float> sel(pick.size() * 3);
  for (size_t i = 0; i < pick.size(); ++i)
    for (int a = 0; a < 3; ++a) sel[3 * i + a] = points[3 * pick[i] + a];
  const std::vector<float> d2 = mean_sq_dist_knn(sel, 3);

  GaussianCloud c;
  c.resize(pick.size(), sh_degree);
  const int kc = c.coeffs();
  for (size_t i = 0; i < pick.size(); ++i) {
    for (int a = 0; a < 3; ++a) c.means[3 * i + a] = sel[3 * i + a];
    const float log_s = 0.5f * std::log(std::max(d2[i], 1e-7f));
    for (int a = 0; a < 3; ++a) c.log_scales[3 * i + a] = log_s;
    c.quats[4 * i] = 1.0f;
    c.opacity_logits[i] = std::log(0.1f / 0.9f);
    for (int a = 0; a < 3; ++a) {
      const float col = colors.empty() ? 0.5f : colors[3 * pick[i] + a];
      c.sh[(i * kc) * 3 + a] = (col - 0.5f) / kShC0;
    }
  }
  return c;
}

}  // namespace gs
