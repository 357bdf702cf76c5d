// HostSum: Σ fn(i) for i in [0, n) in double on the CPU, the host side of the reductions that
// the losses share with their CUDA kernels (which pass a block-sum functor instead).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/device.h"
#include "core/errors.h"

namespace gs {

// Each thread sums its static slice, so the result does not depend on scheduling for a given
// thread count.
struct HostSum {
  template <class F>
  double operator()(const Device& device, size_t n, F fn) const {
    GS_CHECK(device.is_cpu(), "host reduction asked to run on " + device.name());
    double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) total += fn(static_cast<size_t>(i));
    return total;
  }
};

}  // namespace gs
