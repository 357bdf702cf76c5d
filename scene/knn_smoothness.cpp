// The kNN smoothness regulariser (see knn_smoothness.h): graph building and the CPU backend.
#include "scene/knn_smoothness.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/backend_dispatch.h"
#include "core/errors.h"
#include "core/parallel_for.h"
#include "scene/knn_smoothness_impl.h"

namespace gs {

void build_knn_graph(const std::vector<float>& points, const std::vector<int32_t>& group, int k,
                     std::vector<int32_t>& offsets, std::vector<int32_t>& indices) {
  const size_t n = group.size();
  GS_CHECK(points.size() == 3 * n, "build_knn_graph: one group per point");
  // Brute force within each group (a human holds at most SMPL's 6,890 Gaussians: ~50M distances
  // per human), the groups' members listed first so the cost is Σ group² rather than n².
  std::map<int32_t, std::vector<int32_t>> members;
  for (size_t i = 0; i < n; ++i) members[group[i]].push_back(int32_t(i));
  const size_t take_max = size_t(std::max(k, 0));
  std::vector<std::vector<int32_t>> nearest(n);
  for (const auto& [g, ids] : members) {
    (void)g;
#pragma omp parallel for schedule(dynamic, 64)
    for (int64_t a = 0; a < int64_t(ids.size()); ++a) {
      const size_t i = size_t(ids[size_t(a)]);
      std::vector<std::pair<float, int32_t>> dist;
      dist.reserve(ids.size());
      for (const int32_t j : ids) {
        if (size_t(j) == i) continue;
        float d = 0;
        for (int c = 0; c < 3; ++c) {
          const float t = points[3 * i + size_t(c)] - points[3 * size_t(j) + size_t(c)];
          d += t * t;
        }
        dist.push_back({d, j});
      }
      const size_t take = std::min(dist.size(), take_max);
      std::partial_sort(dist.begin(), dist.begin() + long(take), dist.end());
      for (size_t t = 0; t < take; ++t) nearest[i].push_back(dist[t].second);
    }
  }
  // Symmetrise (i ~ j when either lists the other), serially: the same graph for any thread
  // count.
  std::vector<std::set<int32_t>> adjacent(n);
  for (size_t i = 0; i < n; ++i)
    for (const int32_t j : nearest[i]) {
      adjacent[i].insert(j);
      adjacent[size_t(j)].insert(int32_t(i));
    }
  offsets.assign(n + 1, 0);
  indices.clear();
  for (size_t i = 0; i < n; ++i) {
    indices.insert(indices.end(), adjacent[i].begin(), adjacent[i].end());
    offsets[i + 1] = int32_t(indices.size());
  }
}

void add_smoothness_gradient(const Device& device, size_t n, const int32_t* offsets,
                             const int32_t* indices, const float* values, int stride, int dims,
                             double scale, float* grads, int grad_stride) {
  if (n == 0) return;
  if (runs_on_cuda<float>(device, "kNN smoothness")) {
#ifdef GSTRAIN_WITH_CUDA
    add_smoothness_gradient_cuda(device, n, offsets, indices, values, stride, dims, float(scale),
                                 grads, grad_stride);
#endif
    return;
  }
  parallel_for(device, n,
               smooth_impl::SmoothnessKernel{offsets, indices, values, stride, dims, float(scale),
                                             grads, grad_stride});
}

double smoothness_loss(const std::vector<int32_t>& offsets, const std::vector<int32_t>& indices,
                       const std::vector<float>& values, int stride, int dims, double lambda,
                       size_t edges) {
  if (edges == 0) return 0;
  double sum = 0;
  for (size_t i = 0; i + 1 < offsets.size(); ++i)
    for (int32_t e = offsets[i]; e < offsets[i + 1]; ++e)
      for (int d = 0; d < dims; ++d) {
        const double t = double(values[i * size_t(stride) + size_t(d)]) -
                         double(values[size_t(indices[size_t(e)]) * size_t(stride) + size_t(d)]);
        sum += t * t;
      }
  return lambda / double(edges) * 0.5 * sum;  // each undirected edge was visited twice
}

}  // namespace gs
