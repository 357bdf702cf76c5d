// GaussianCloud validation, robust bounds and device upload.
#include "scene/gaussian_cloud.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"

namespace gs {

void GaussianCloud::resize(size_t n, int degree) {
  GS_CHECK(degree >= 0 && degree <= 3, "SH degree must be 0..3");
  sh_degree = degree;
  means.resize(n * 3);
  log_scales.resize(n * 3);
  quats.resize(n * 4);
  opacity_logits.resize(n);
  sh.resize(n * static_cast<size_t>(sh_coeff_count(degree)) * 3);
}

void GaussianCloud::check_valid(const std::string& what) const {
  if (sh_degree < 0 || sh_degree > 3)
    throw Error(what + ": SH degree " + std::to_string(sh_degree) + " is outside 0..3");
  const size_t n = size();
  auto expect = [&](const std::vector<float>& v, size_t per, const char* name) {
    if (v.size() != n * per)
      throw Error(what + ": '" + name + "' holds " + std::to_string(v.size()) +
                  " floats, expected " + std::to_string(n * per) + " for " + std::to_string(n) +
                  " Gaussians");
  };
  expect(means, 3, "means");
  expect(log_scales, 3, "log_scales");
  expect(quats, 4, "quats");
  expect(sh, static_cast<size_t>(coeffs()) * 3, "sh");
}

void GaussianCloud::append(const GaussianCloud& o, size_t i) {
  GS_CHECK(o.sh_degree == sh_degree, "GaussianCloud::append: SH degrees differ");
  const size_t k = size_t(coeffs()) * 3;
  means.insert(means.end(), &o.means[3 * i], &o.means[3 * i] + 3);
  log_scales.insert(log_scales.end(), &o.log_scales[3 * i], &o.log_scales[3 * i] + 3);
  quats.insert(quats.end(), &o.quats[4 * i], &o.quats[4 * i] + 4);
  opacity_logits.push_back(o.opacity_logits[i]);
  sh.insert(sh.end(), &o.sh[i * k], &o.sh[i * k] + k);
}

void GaussianCloud::append(const GaussianCloud& o) {
  GS_CHECK(o.sh_degree == sh_degree, "GaussianCloud::append: SH degrees differ");
  means.insert(means.end(), o.means.begin(), o.means.end());
  log_scales.insert(log_scales.end(), o.log_scales.begin(), o.log_scales.end());
  quats.insert(quats.end(), o.quats.begin(), o.quats.end());
  opacity_logits.insert(opacity_logits.end(), o.opacity_logits.begin(), o.opacity_logits.end());
  sh.insert(sh.end(), o.sh.begin(), o.sh.end());
}

size_t GaussianCloud::count_nonfinite() const {
  const size_t n = size();
  const size_t k3 = static_cast<size_t>(coeffs()) * 3;
  auto bad = [](const float* p, size_t count) {
    for (size_t j = 0; j < count; ++j)
      if (!std::isfinite(p[j])) return true;
    return false;
  };
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (bad(&means[i * 3], 3) || bad(&log_scales[i * 3], 3) || bad(&quats[i * 4], 4) ||
        bad(&opacity_logits[i], 1) || bad(&sh[i * k3], k3))
      ++count;
  }
  return count;
}

namespace {
// The q-quantile (nearest rank) of `values`, which it reorders; values must not be empty.
float quantile_of(std::vector<float>& values, float q) {
  const size_t last = values.size() - 1;
  const size_t k = std::min(last, static_cast<size_t>(q * static_cast<float>(last) + 0.5f));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}
}  // namespace

RobustBounds robust_bounds(const GaussianCloud& cloud, float quantile) {
  RobustBounds b;
  const size_t n = cloud.size();
  quantile = std::clamp(quantile, 0.f, 0.5f);
  std::vector<float> values;
  values.reserve(n);
  for (int a = 0; a < 3; ++a) {
    values.clear();
    for (size_t i = 0; i < n; ++i)
      if (std::isfinite(cloud.means[i * 3 + a])) values.push_back(cloud.means[i * 3 + a]);
    if (values.empty()) continue;
    b.center[a] = quantile_of(values, 0.5f);
    b.lo[a] = quantile_of(values, quantile);
    b.hi[a] = quantile_of(values, 1.f - quantile);
  }
  values.clear();
  for (size_t i = 0; i < n; ++i) {
    const float dx = cloud.means[i * 3] - b.center[0], dy = cloud.means[i * 3 + 1] - b.center[1],
                dz = cloud.means[i * 3 + 2] - b.center[2];
    const float d = std::sqrt(dx * dx + dy * dy + dz * dz);
    if (std::isfinite(d)) values.push_back(d);
  }
  if (!values.empty()) b.radius = quantile_of(values, 0.5f);
  return b;
}

DeviceGaussians DeviceGaussians::upload(const Device& device, const GaussianCloud& cloud) {
  cloud.check_valid();
  DeviceGaussians d;
  d.count = cloud.size();
  d.sh_degree = cloud.sh_degree;
  d.means = Buffer<float>::from_host(device, cloud.means, MemCategory::params);
  d.log_scales = Buffer<float>::from_host(device, cloud.log_scales, MemCategory::params);
  d.quats = Buffer<float>::from_host(device, cloud.quats, MemCategory::params);
  d.opacity_logits = Buffer<float>::from_host(device, cloud.opacity_logits, MemCategory::params);
  d.sh = Buffer<float>::from_host(device, cloud.sh, MemCategory::params);
  return d;
}

}  // namespace gs
