// Densification and pruning, on host-visible arrays (see densify.h). On CUDA the model is
// copied to the host and back (every few hundred steps); decisions are identical on both.
#include "scene/densify.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/errors.h"
#include "core/quat_math.h"

namespace gs {

namespace {

using rmath::logit;
using rmath::quat_to_rotation;
using rmath::sigmoid;

float max_scale(const float* log_scale) {
  return std::exp(std::max({log_scale[0], log_scale[1], log_scale[2]}));
}

// Copies parameter row `src` to row `dst` in every group; moments zeroed when `fresh`.
void copy_row(ModelHostArrays& a, int sh_degree, size_t dst, size_t src, bool fresh) {
  for (int g = 0; g < kNumGaussianParams; ++g) {
    const size_t row = group_row_floats(GaussianParam(g), sh_degree);
    std::copy(a.params[g] + src * row, a.params[g] + (src + 1) * row, a.params[g] + dst * row);
    if (fresh) {
      std::fill(a.adam_m[g] + dst * row, a.adam_m[g] + (dst + 1) * row, 0.0f);
      std::fill(a.adam_v[g] + dst * row, a.adam_v[g] + (dst + 1) * row, 0.0f);
    } else if (dst != src) {
      std::copy(a.adam_m[g] + src * row, a.adam_m[g] + (src + 1) * row, a.adam_m[g] + dst * row);
      std::copy(a.adam_v[g] + src * row, a.adam_v[g] + (src + 1) * row, a.adam_v[g] + dst * row);
    }
  }
  if (a.tags) a.tags[dst] = a.tags[src];
}

// Keeps rows whose `keep` flag is set, in order, packed from row 0, with their statistics.
// Returns the new count.
size_t compact(ModelHostArrays& a, int sh_degree, const std::vector<uint8_t>& keep) {
  size_t w = 0;
  for (size_t i = 0; i < keep.size(); ++i) {
    if (!keep[i]) continue;
    if (w != i) {
      copy_row(a, sh_degree, w, i, false);
      a.absgrad_accum[w] = a.absgrad_accum[i];
      a.grad_count[w] = a.grad_count[i];
      a.max_screen_size[w] = a.max_screen_size[i];
    }
    ++w;
  }
  return w;
}

// Zeroes the statistics of the first `rows` rows (rows past every count ever used are zero).
void reset_stats(ModelHostArrays& a, size_t rows) {
  std::fill(a.absgrad_accum, a.absgrad_accum + rows, 0.0f);
  std::fill(a.grad_count, a.grad_count + rows, 0.0f);
  std::fill(a.max_screen_size, a.max_screen_size + rows, 0.0f);
}

// The floor: when pruning would leave `kept` < `min_keep` rows, keeps the highest-opacity rows
// among those marked (finite ones first). Returns how many were spared.
size_t spare_to_floor(const float* opacity_logits, std::vector<uint8_t>& keep, size_t kept,
                      size_t min_keep) {
  if (kept >= min_keep) return 0;
  std::vector<size_t> doomed;
  for (size_t i = 0; i < keep.size(); ++i)
    if (!keep[i]) doomed.push_back(i);
  const size_t spare = std::min(min_keep - kept, doomed.size());
  if (spare == 0) return 0;
  auto higher = [&](size_t x, size_t y) {
    const float a = opacity_logits[x], b = opacity_logits[y];
    if (std::isnan(a) != std::isnan(b)) return std::isnan(b);  // finite before NaN
    return a > b || (a == b && x < y);
  };
  std::nth_element(doomed.begin(), doomed.begin() + (spare - 1), doomed.end(), higher);
  for (size_t k = 0; k < spare; ++k) keep[doomed[k]] = 1;
  return spare;
}

}  // namespace

DensifyResult densify_and_prune(GaussianModel& model, const DensifySettings& s,
                                std::mt19937_64& rng) {
  DensifyResult r;
  const size_t n = model.count(), cap = model.capacity();
  const int d = model.sh_degree();
  r.count_before = n;
  r.threshold_used = s.grad_threshold;
  size_t new_count = n;

  model.with_host_arrays(
      [&](ModelHostArrays& a) {
        const float* op = a.params[int(GaussianParam::opacity)];
        const float* ls = a.params[int(GaussianParam::log_scales)];
        const float split_scale = float(s.percent_dense * s.scene_extent);

        // Prune decisions on the current set.
        std::vector<uint8_t> keep(n, 1);
        size_t kept = 0;
        for (size_t i = 0; i < n; ++i) {
          bool prune = !(sigmoid(op[i]) >= float(s.min_opacity));  // NaN prunes too
          if (s.prune_big)
            prune = prune ||
                    (s.prune_screen_size > 0 && a.max_screen_size[i] > s.prune_screen_size) ||
                    max_scale(ls + 3 * i) > float(s.max_world_scale * s.scene_extent);
          if (prune) keep[i] = 0;
          kept += keep[i];
        }
        r.spared = spare_to_floor(op, keep, kept, s.min_keep);
        kept += r.spared;

        // Candidates: averaged gradient at or above the base threshold, not being pruned.
        std::vector<std::pair<float, size_t>> cand;
        for (size_t i = 0; i < n; ++i) {
          if (!keep[i] || a.grad_count[i] <= 0) continue;
          const float g = a.absgrad_accum[i] / a.grad_count[i];
          if (g >= float(s.grad_threshold)) cand.emplace_back(g, i);
        }
        r.candidates = cand.size();
        // Each admitted candidate grows the node by one (clone +1; split +2 −1).
        const size_t limit = s.capacity_limit ? std::min(s.capacity_limit, cap) : cap;
        const size_t room = limit > kept ? limit - kept : 0;
        if (cand.size() > room) {
          std::nth_element(cand.begin(), cand.begin() + room, cand.end(),
                           [](const auto& x, const auto& y) { return x.first > y.first; });
          cand.resize(room);
          float lowest = INFINITY;
          for (const auto& c : cand) lowest = std::min(lowest, c.first);
          if (!cand.empty()) r.threshold_used = std::max(double(lowest), s.grad_threshold);
          else r.threshold_used = INFINITY;
        }
        r.admitted = cand.size();

        // Build new rows in a staging area first (their sources move during compaction).
        const size_t row_total = [&] {
          size_t t = 0;
          for (int g = 0; g < kNumGaussianParams; ++g) t += group_row_floats(GaussianParam(g), d);
          return t;
        }();
        std::vector<float> staged;  // rows of all groups concatenated
        std::vector<int32_t> staged_tags;  // tagged models: the staged rows' tags
        std::vector<size_t> split_sources;
        std::normal_distribution<float> normal(0.f, 1.f);
        auto stage_copy = [&](size_t src) {
          for (int g = 0; g < kNumGaussianParams; ++g) {
            const size_t row = group_row_floats(GaussianParam(g), d);
            staged.insert(staged.end(), a.params[g] + src * row, a.params[g] + (src + 1) * row);
          }
          if (a.tags) staged_tags.push_back(a.tags[src]);
        };
        for (const auto& c : cand) {
          const size_t i = c.second;
          const bool big_on_screen =
              s.split_screen_size > 0 && a.max_screen_size[i] > s.split_screen_size;
          if (max_scale(ls + 3 * i) <= split_scale && !big_on_screen) {
            stage_copy(i);
            ++r.cloned;
          } else {
            // Two samples from the Gaussian, each 1/1.6 the size; the original goes away.
            float R[9];
            quat_to_rotation(a.params[int(GaussianParam::quats)] + 4 * i, R);
            for (int k = 0; k < 2; ++k) {
              const size_t at = staged.size();
              stage_copy(i);
              float local[3];
              for (int j = 0; j < 3; ++j) local[j] = std::exp(ls[3 * i + j]) * normal(rng);
              for (int j = 0; j < 3; ++j)
                staged[at + j] += R[3 * j] * local[0] + R[3 * j + 1] * local[1] + R[3 * j + 2] * local[2];
              for (int j = 0; j < 3; ++j) staged[at + 3 + j] -= std::log(1.6f);
            }
            keep[i] = 0;
            ++r.split;
          }
        }
        size_t pruned = 0;
        for (uint8_t k : keep) pruned += k ? 0 : 1;
        r.pruned = pruned - r.split;

        size_t w = compact(a, d, keep);
        const size_t staged_rows = row_total ? staged.size() / row_total : 0;
        GS_CHECK(w + staged_rows <= cap, "densification would pass the node's capacity");
        for (size_t k = 0; k < staged_rows; ++k, ++w) {
          const float* src = staged.data() + k * row_total;
          for (int g = 0; g < kNumGaussianParams; ++g) {
            const size_t row = group_row_floats(GaussianParam(g), d);
            std::copy(src, src + row, a.params[g] + w * row);
            std::fill(a.adam_m[g] + w * row, a.adam_m[g] + (w + 1) * row, 0.0f);
            std::fill(a.adam_v[g] + w * row, a.adam_v[g] + (w + 1) * row, 0.0f);
            src += row;
          }
          if (a.tags) a.tags[w] = staged_tags[k];
        }
        new_count = w;
        reset_stats(a, std::max(n, new_count));
      },
      // Each admitted candidate adds at most one row, so the node at most doubles.
      true, std::min(cap, 2 * n));
  model.set_count(new_count);
  r.count_after = new_count;
  return r;
}

size_t prune_lowest_opacity(GaussianModel& model, double fraction) {
  const size_t n = model.count();
  // Never the last Gaussian: an empty node cannot train (the run would fail instead).
  const size_t remove = std::min(n > 0 ? n - 1 : 0, size_t(std::ceil(fraction * double(n))));
  if (remove == 0) return 0;
  size_t new_count = n;
  model.with_host_arrays(
      [&](ModelHostArrays& a) {
        const float* op = a.params[int(GaussianParam::opacity)];
        std::vector<size_t> order(n);
        for (size_t i = 0; i < n; ++i) order[i] = i;
        std::nth_element(order.begin(), order.begin() + (remove - 1), order.end(),
                         [&](size_t x, size_t y) { return op[x] < op[y]; });
        std::vector<uint8_t> keep(n, 1);
        for (size_t k = 0; k < remove; ++k) keep[order[k]] = 0;
        new_count = compact(a, model.sh_degree(), keep);
        reset_stats(a, n);
      },
      true, n);
  model.set_count(new_count);
  return n - new_count;
}

size_t prune_where(GaussianModel& model,
                   const std::function<bool(const ModelHostArrays&, size_t)>& remove,
                   size_t min_keep) {
  const size_t n = model.count();
  size_t new_count = n;
  model.with_host_arrays(
      [&](ModelHostArrays& a) {
        std::vector<uint8_t> keep(n, 1);
        size_t kept = n;
        for (size_t i = 0; i < n && kept > min_keep; ++i)
          if (remove(a, i)) {
            keep[i] = 0;
            --kept;
          }
        if (kept == n) return;
        new_count = compact(a, model.sh_degree(), keep);
      },
      true, n);
  model.set_count(new_count);
  return n - new_count;
}

void reset_opacity(GaussianModel& model, float max_opacity) {
  const float cap = logit(max_opacity);
  model.with_host_arrays(
      [&](ModelHostArrays& a) {
        float* op = a.params[int(GaussianParam::opacity)];
        for (size_t i = 0; i < model.count(); ++i) op[i] = std::min(op[i], cap);
        std::fill(a.adam_m[int(GaussianParam::opacity)], a.adam_m[int(GaussianParam::opacity)] + model.count(), 0.0f);
        std::fill(a.adam_v[int(GaussianParam::opacity)], a.adam_v[int(GaussianParam::opacity)] + model.count(), 0.0f);
      },
      true, model.count());
}

}  // namespace gs
