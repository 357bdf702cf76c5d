// Helpers of the CUDA-against-CPU parity tests: device uploads, float copies of double test
// data, and the relative error the tolerances are stated in.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/buffer.h"
#include "tests/deform/gradient_check.h"

namespace gs::test {

// max |a − b| over max |b|: the CPU result b sets the scale (1e-12 guards an all-zero b).
inline double rel_error(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double diff = 0, scale = 1e-12;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, double(std::abs(a[i] - b[i])));
    scale = std::max(scale, double(std::abs(b[i])));
  }
  return diff / scale;
}

template <class T>
Buffer<T> upload(const Device& device, const std::vector<T>& values) {
  return Buffer<T>::from_host(device, values, MemCategory::other);
}

inline std::vector<float> to_floats(const std::vector<double>& v) { return {v.begin(), v.end()}; }

inline std::vector<float> random_floats(size_t n, uint64_t seed, float lo, float hi) {
  return to_floats(random_vector(n, seed, lo, hi));
}

}  // namespace gs::test
