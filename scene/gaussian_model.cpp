// GaussianModel: capacity-allocated parameters, Adam state and densification statistics.
#include "scene/gaussian_model.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/errors.h"

namespace gs {

const char* to_string(GaussianParam g) {
  switch (g) {
    case GaussianParam::means: return "means";
    case GaussianParam::log_scales: return "log_scales";
    case GaussianParam::quats: return "quats";
    case GaussianParam::opacity: return "opacity";
    case GaussianParam::sh: return "sh";
    case GaussianParam::count: break;
  }
  return "?";
}

size_t group_row_floats(GaussianParam g, int sh_degree) {
  switch (g) {
    case GaussianParam::means: return 3;
    case GaussianParam::log_scales: return 3;
    case GaussianParam::quats: return 4;
    case GaussianParam::opacity: return 1;
    case GaussianParam::sh: return 3 * size_t(sh_coeff_count(sh_degree));
    case GaussianParam::count: break;
  }
  return 0;
}

GaussianModel::GaussianModel(std::string name, const Device& device, int sh_degree,
                             size_t capacity, bool tagged, bool trainable)
    : name_(std::move(name)),
      device_(device),
      sh_degree_(sh_degree),
      capacity_(capacity),
      tagged_(tagged),
      trainable_(trainable) {
  GS_CHECK(sh_degree >= 0 && sh_degree <= 3, "SH degree must be 0..3");
  for (int g = 0; g < kNumGaussianParams; ++g) {
    const size_t n = capacity * group_row_floats(GaussianParam(g), sh_degree);
    params_[g] = Buffer<float>::zeros(device, n, MemCategory::params);
    if (!trainable) continue;
    m_[g] = Buffer<float>::zeros(device, n, MemCategory::optimizer);
    v_[g] = Buffer<float>::zeros(device, n, MemCategory::optimizer);
  }
  if (tagged_) tags_ = Buffer<int32_t>::zeros(device, capacity, MemCategory::params);
  if (!trainable) return;
  absgrad_accum_ = Buffer<float>::zeros(device, capacity, MemCategory::densify);
  grad_count_ = Buffer<float>::zeros(device, capacity, MemCategory::densify);
  max_screen_size_ = Buffer<float>::zeros(device, capacity, MemCategory::densify);
}

void GaussianModel::set_count(size_t n) {
  GS_CHECK(n <= capacity_, "Gaussian count " + std::to_string(n) + " past the capacity " +
                               std::to_string(capacity_) + " of node '" + name_ + "'");
  count_ = n;
}

GaussianInputs GaussianModel::inputs(const float* colors) const {
  GaussianInputs in;
  in.count = count_;
  in.means = params(GaussianParam::means);
  in.log_scales = params(GaussianParam::log_scales);
  in.quats = params(GaussianParam::quats);
  in.opacity_logits = params(GaussianParam::opacity);
  in.colors = colors;
  return in;
}

void GaussianModel::with_host_arrays(const std::function<void(ModelHostArrays&)>& fn,
                                     bool write_back, size_t rows) {
  ModelHostArrays a;
  if (device_.is_cpu()) {
    for (int g = 0; g < kNumGaussianParams; ++g) {
      a.params[g] = params_[g].data();
      a.adam_m[g] = trainable_ ? m_[g].data() : nullptr;
      a.adam_v[g] = trainable_ ? v_[g].data() : nullptr;
    }
    if (trainable_) {
      a.absgrad_accum = absgrad_accum_.data();
      a.grad_count = grad_count_.data();
      a.max_screen_size = max_screen_size_.data();
    }
    a.tags = tagged_ ? tags_.data() : nullptr;
    a.rows = capacity_;
    fn(a);
    return;
  }
  // Host copies of a device model: host RAM, outside the device budget.
  a.rows = std::min(capacity_, std::max(rows, count_));
  std::array<std::vector<float>, kNumGaussianParams> p, m, v;
  for (int g = 0; g < kNumGaussianParams; ++g) {
    const size_t floats = a.rows * group_row_floats(GaussianParam(g), sh_degree_);
    p[g] = params_[g].to_host(floats);
    a.params[g] = p[g].data();
    if (!trainable_) continue;
    m[g] = m_[g].to_host(floats);
    v[g] = v_[g].to_host(floats);
    a.adam_m[g] = m[g].data();
    a.adam_v[g] = v[g].data();
  }
  std::vector<float> acc, cnt, rad;
  if (trainable_) {
    acc = absgrad_accum_.to_host(a.rows);
    cnt = grad_count_.to_host(a.rows);
    rad = max_screen_size_.to_host(a.rows);
    a.absgrad_accum = acc.data();
    a.grad_count = cnt.data();
    a.max_screen_size = rad.data();
  }
  std::vector<int32_t> tag = tagged_ ? tags_.to_host(a.rows) : std::vector<int32_t>();
  a.tags = tagged_ ? tag.data() : nullptr;
  fn(a);
  if (!write_back) return;
  for (int g = 0; g < kNumGaussianParams; ++g) {
    params_[g].upload_prefix(p[g]);
    if (!trainable_) continue;
    m_[g].upload_prefix(m[g]);
    v_[g].upload_prefix(v[g]);
  }
  if (trainable_) {
    absgrad_accum_.upload_prefix(acc);
    grad_count_.upload_prefix(cnt);
    max_screen_size_.upload_prefix(rad);
  }
  if (tagged_) tags_.upload_prefix(tag);
}

void GaussianModel::load_cloud(const GaussianCloud& cloud) {
  cloud.check_valid("initial Gaussians of node '" + name_ + "'");
  if (cloud.size() > capacity_)
    throw Error("node '" + name_ + "': " + std::to_string(cloud.size()) +
                    " Gaussians do not fit its capacity of " + std::to_string(capacity_),
                "subsample the initial points to the planned cap");
  const size_t n = cloud.size();
  const int kc = sh_coeff_count(sh_degree_), kin = cloud.coeffs();
  // Rows past both the old and the new count are never read (and are untouched zero pages on
  // the CPU, which should stay uncommitted).
  const size_t rows = std::max(count_, n);
  with_host_arrays(
      [&](ModelHostArrays& a) {
        for (int g = 0; g < kNumGaussianParams; ++g) {
          const size_t row = group_row_floats(GaussianParam(g), sh_degree_);
          std::fill(a.params[g], a.params[g] + rows * row, 0.0f);
          if (!trainable_) continue;
          std::fill(a.adam_m[g], a.adam_m[g] + rows * row, 0.0f);
          std::fill(a.adam_v[g], a.adam_v[g] + rows * row, 0.0f);
        }
        std::copy(cloud.means.begin(), cloud.means.end(), a.params[int(GaussianParam::means)]);
        std::copy(cloud.log_scales.begin(), cloud.log_scales.end(),
                  a.params[int(GaussianParam::log_scales)]);
        std::copy(cloud.quats.begin(), cloud.quats.end(), a.params[int(GaussianParam::quats)]);
        std::copy(cloud.opacity_logits.begin(), cloud.opacity_logits.end(),
                  a.params[int(GaussianParam::opacity)]);
        // SH: copy the coefficients both have; the rest stay zero.
        float* sh = a.params[int(GaussianParam::sh)];
        for (size_t i = 0; i < n; ++i)
          for (int k = 0; k < std::min(kc, kin); ++k)
            for (int c = 0; c < 3; ++c)
              sh[(i * kc + k) * 3 + c] = cloud.sh[(i * kin + k) * 3 + c];
        if (!trainable_) return;
        std::fill(a.absgrad_accum, a.absgrad_accum + rows, 0.0f);
        std::fill(a.grad_count, a.grad_count + rows, 0.0f);
        std::fill(a.max_screen_size, a.max_screen_size + rows, 0.0f);
      },
      true, rows);
  count_ = n;
}

void GaussianModel::load_cloud(const GaussianCloud& cloud, const std::vector<int32_t>& tags) {
  GS_CHECK(tagged_, "node '" + name_ + "' keeps no tags");
  GS_CHECK(tags.size() == cloud.size(), "one tag per initial Gaussian of node '" + name_ + "'");
  load_cloud(cloud);
  with_host_arrays([&](ModelHostArrays& a) { std::copy(tags.begin(), tags.end(), a.tags); },
                   true, tags.size());
}

std::vector<int32_t> GaussianModel::tags_to_host() const {
  if (!tagged_) return {};
  std::vector<int32_t> t(count_);
  copy_bytes(Device::cpu(), t.data(), device_, tags_.data(), count_ * sizeof(int32_t));
  return t;
}

GaussianCloud GaussianModel::to_cloud() const {
  GaussianCloud c;
  c.resize(count_, sh_degree_);
  auto copy = [&](GaussianParam g, std::vector<float>& dst) {
    const size_t row = group_row_floats(g, sh_degree_);
    copy_bytes(Device::cpu(), dst.data(), device_, params(g), count_ * row * sizeof(float));
  };
  copy(GaussianParam::means, c.means);
  copy(GaussianParam::log_scales, c.log_scales);
  copy(GaussianParam::quats, c.quats);
  copy(GaussianParam::opacity, c.opacity_logits);
  copy(GaussianParam::sh, c.sh);
  return c;
}

void GaussianModel::clear_statistics() {
  if (!trainable_) return;
  absgrad_accum_.zero();
  grad_count_.zero();
  max_screen_size_.zero();
}

size_t GaussianModel::allocated_bytes() const {
  size_t b = absgrad_accum_.bytes() + grad_count_.bytes() + max_screen_size_.bytes() + tags_.bytes();
  for (int g = 0; g < kNumGaussianParams; ++g) b += params_[g].bytes() + m_[g].bytes() + v_[g].bytes();
  return b;
}

}  // namespace gs
