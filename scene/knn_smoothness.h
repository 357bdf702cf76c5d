// The kNN smoothness regulariser of OmniRe's skinned humans: neighbouring Gaussians (in the body
// template's canonical space) should have similar rotations, scales, opacities and base colours.
// Over a symmetric neighbour graph with E undirected edges, per attribute a:
//   L = λ / E · Σ_{edges {i,j}} |a_i − a_j|²,   ∂L/∂a_i = 2λ / E · Σ_{j ∈ N(i)} (a_i − a_j).
// Each Gaussian gathers its own gradient (no atomics), on either device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/device.h"

namespace gs {

// k nearest neighbours of each point among those with the same group (e.g. human), symmetrised
// (i ~ j when either lists the other) as CSR: offsets (n + 1) and indices.
void build_knn_graph(const std::vector<float>& points, const std::vector<int32_t>& group, int k,
                     std::vector<int32_t>& offsets, std::vector<int32_t>& indices);

// One attribute: `dims` values per Gaussian at `values` (row stride `stride`), its gradient rows
// at `grads` (stride `grad_stride`), added to. Returns nothing; the loss is computed on the host
// by smoothness_loss when wanted.
void add_smoothness_gradient(const Device& device, size_t n, const int32_t* offsets,
                             const int32_t* indices, const float* values, int stride, int dims,
                             double scale, float* grads, int grad_stride);

// The loss term of one attribute on the host (double), for tests and logs.
double smoothness_loss(const std::vector<int32_t>& offsets, const std::vector<int32_t>& indices,
                       const std::vector<float>& values, int stride, int dims, double lambda,
                       size_t edges);

#ifdef GSTRAIN_WITH_CUDA
void add_smoothness_gradient_cuda(const Device& device, size_t n, const int32_t* offsets,
                                  const int32_t* indices, const float* values, int stride,
                                  int dims, float scale, float* grads, int grad_stride);
#endif

}  // namespace gs
