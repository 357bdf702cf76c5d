// Adaptive density control under the budget (DESIGN.md §4, "Densify under the cap"): clone
// small / split large Gaussians whose averaged AbsGrad passes the threshold, prune transparent
// and oversized ones, and grow by at most the node's remaining capacity — raising the
// threshold to the quantile that admits only that many candidates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>

#include "core/camera.h"
#include "scene/gaussian_model.h"

namespace gs {

struct DensifySettings {
  double grad_threshold = 0.0002;  // base threshold on the averaged (Abs)Grad
  double percent_dense = 0.01;     // clone at or below, split above this × scene extent
  double scene_extent = 1.0;
  double min_opacity = 0.005;
  bool prune_big = false;          // after the first opacity reset, as 3DGS does
  // Screen sizes are fractions of the larger image side (ModelHostArrays::max_screen_size).
  float prune_screen_size = 0.f;   // prune_big also prunes above this; 0: off (DensifyConfig)
  float split_screen_size = 0.f;   // candidates above this are split, however small in the
                                   // world (drivestudio's split_screen_size); 0: off
  double max_world_scale = 0.1;    // × scene extent
  size_t min_keep = 1;             // pruning never leaves fewer (the floor; see DensifyConfig)
  size_t capacity_limit = 0;       // grow to at most this many (0: the model's capacity);
                                   // the controller lowers it when calibration says so
};

struct DensifyResult {
  size_t count_before = 0, count_after = 0;
  size_t candidates = 0;           // passing the base threshold
  size_t admitted = 0;             // candidates that fit the capacity
  size_t cloned = 0, split = 0, pruned = 0;
  size_t spared = 0;               // marked for pruning but kept by the floor (min_keep)
  double threshold_used = 0;       // base threshold, or the raised one when capacity binds
};

// One densify-and-prune step on the node's first count() Gaussians. New Gaussians get zeroed
// Adam moments; every Gaussian's statistics are reset afterwards. Never exceeds capacity().
DensifyResult densify_and_prune(GaussianModel& model, const DensifySettings& settings,
                                std::mt19937_64& rng);

// Removes the `fraction` of Gaussians with the lowest opacity (recovery from a refused
// allocation). Returns how many were removed.
size_t prune_lowest_opacity(GaussianModel& model, double fraction);

// Removes the Gaussians for which `remove(arrays, row)` holds (e.g. a rigid node's Gaussians
// that left their box), in order, never below `min_keep`. Statistics are kept. Returns how
// many were removed.
size_t prune_where(GaussianModel& model,
                   const std::function<bool(const ModelHostArrays&, size_t)>& remove,
                   size_t min_keep);

// Clamps every opacity to at most `max_opacity` and zeroes the opacity group's Adam moments.
void reset_opacity(GaussianModel& model, float max_opacity = 0.01f);

// Adds one view's statistics: the norm of (scale_x·g_x, scale_y·g_y) of `grad2d` (n × 2,
// device) to the accumulator, +1 to the count where the Gaussian was visible (radius > 0), and
// the max screen size (radius / the larger side of `camera`'s image). AbsGrad comes pre-scaled
// (scales 1); a pixel-space v_mean2d takes (W/2, H/2) to reach graphdeco's NDC threshold units.
void accumulate_densify_stats(GaussianModel& model, const float* grad2d, const int32_t* radii,
                              const Camera& camera, float scale_x = 1.f, float scale_y = 1.f);

}  // namespace gs
