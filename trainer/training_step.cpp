// One training step and what happens between steps (see training_run.h): render, losses,
// backward, Adam; densification and opacity resets; out-of-memory recovery; health checks.
#include "trainer/training_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/logging.h"
#include "optim/loss.h"
#include "scene/densify.h"
#include "scene/sharp_shape.h"
#include "trainer/downsample.h"
#include "trainer/street_losses.h"

namespace gs {

namespace {

// How many times one step is retried after a refused allocation (each retry prunes first).
constexpr int kMaxOomRetries = 5;
constexpr double kOomPruneFraction = 0.05;

}  // namespace

// Deformable-3DGS's annealed time noise for real captures: one N(0, 1) draw per step (shared by
// every Gaussian) × the spacing of the training frames × a factor falling linearly from 0.1 to
// 0 over 20k steps. From (seed, step) alone, so resumed runs see the same noise.
float TrainingRun::time_noise(int step) const {
  if (!cfg_.deform.time_noise) return 0.0f;
  constexpr double kNoiseSteps = 20000;
  const double anneal = 0.1 * (1.0 - std::min(double(step) / kNoiseSteps, 1.0));
  std::mt19937_64 rng(cfg_.train.seed * 15485863ull + uint64_t(step));
  std::normal_distribution<double> normal(0.0, 1.0);
  return float(normal(rng) * anneal / double(data_.train.size()));
}

void TrainingRun::train_step(int step) {
  const size_t n_views = data_.train.size();
  // A fresh permutation of the training views per epoch, from (seed, epoch) alone, so a
  // resumed run sees exactly the order the uninterrupted one would have.
  const size_t epoch = size_t(step - 1) / n_views, slot = size_t(step - 1) % n_views;
  std::vector<size_t> order(n_views);
  std::iota(order.begin(), order.end(), size_t(0));
  std::mt19937_64 rng(cfg_.train.seed * 1000003ull + epoch);
  std::shuffle(order.begin(), order.end(), rng);
  const size_t vi = order[slot];
  // Street scenes start coarse (drivestudio): ¼ resolution below step 250, ½ below 500.
  const int factor = street() ? (step < 250 ? 4 : step < 500 ? 2 : 1) : 1;
  const Camera scaled = downscaled_camera(data_.train[vi].camera, factor);
  const Camera& cam = factor > 1 ? scaled : data_.train[vi].camera;
  last_step_ = step;

  FrameContext frame;
  frame.step = step;
  frame.frame = street() ? street_->train_frame[vi] : 0;
  frame.camera = &cam;
  frame.active_sh_degree = (step - 1) / std::max(cfg_.train.sh_increase_every, 1);
  // Nodes that do not deform ignore the time; the noise is drawn only while a field is on.
  frame.time = data_.train[vi].time;
  if (const SceneNode* net = network_node(); net && net->network_status(step).active)
    frame.time += time_noise(step);

  images_->fetch(vi, target_);
  const float* target = target_.data();
  if (factor > 1) {
    const Camera& full = data_.train[vi].camera;
    downsample_box(dev_, target_.data(), full.width, full.height, 3, factor, target_small_.data());
    target = target_small_.data();
  }
  GaussianInputs in;
  const RasterForward fwd = render_frame(*render_set_, frame, raster_, &in);
  // What the camera sees: the Gaussians, and on street scenes the sky and the exposure.
  const float* seen =
      formation_->active() ? formation_->forward(cam, fwd, int(vi)) : fwd.rgb.data();
  last_loss_ = image_loss_forward_backward(dev_, cam.width, cam.height, seen, target,
                                           float(cfg_.train.lambda_dssim), v_rgb_.data(),
                                           &loss_ws_);
  const float* v_alpha = nullptr;
  const float* v_depth = nullptr;
  if (street()) {
    street_supervision(vi, frame.frame, cam, factor, fwd);
    v_alpha = v_alpha_.data();
    v_depth = v_depth_.data();
  }
  RasterGradients grads =
      rasterize_backward(dev_, in, cam, raster_, fwd, v_rgb_.data(), v_alpha, v_depth);
  std::vector<NodeGradients> slices;
  const TrainConfig& t = cfg_.train;
  const bool sharp_shape = t.sharp_shape_weight > 0 && step % t.sharp_shape_every == 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    slices.push_back(render_set_->slice(i, grads, fwd));
    nodes_[i]->backward(frame, slices[i]);
    // After the node's backward the slice's log-scale rows are its stored log-scales' gradient.
    GaussianModel& m = nodes_[i]->model();
    if (sharp_shape)
      add_sharp_shape_gradient(dev_, m.count(), m.params(GaussianParam::log_scales),
                               t.sharp_shape_ratio, t.sharp_shape_weight, slices[i].v_log_scales);
  }
  // The training-view PSNR for the console and train.jsonl, on the steps that report it.
  if (step % std::max(cfg_.train.log_every, 1) == 0 || step == first_step_)
    last_psnr_ = psnr(dev_, cam.width, cam.height, seen, target);
  last_instances_ = fwd.stats.instances;
  last_visible_ = fwd.stats.visible;

  for (size_t i = 0; i < nodes_.size(); ++i) {
    // Statistics for densification, as graphdeco gathers them: while step < densify.stop.
    if (step < densify_stop(i)) nodes_[i]->accumulate_stats(slices[i], cam);
    nodes_[i]->optimizer_step(step, slices[i]);
  }
  if (formation_->active()) formation_->optimizer_step(step, int(vi));
}

void TrainingRun::street_supervision(size_t vi, int frame, const Camera& cam, int factor,
                                     const RasterForward& fwd) {
  const size_t px = size_t(cam.width) * cam.height;
  v_alpha_.zero();
  v_depth_.zero();
  // The sky's and the exposure's share of the image gradient (v_rgb_ in place).
  const double regulariser =
      formation_->backward(cam, fwd, int(vi), v_rgb_.data(), v_rgb_.data(), v_alpha_.data());
  // No opacity where the sky is (drivestudio's BCE on the accumulated alpha).
  last_sky_loss_ = 0;
  const std::vector<StreetFrameMasks>& masks = street_->scene.train_masks;
  if (vi < masks.size() && !masks[vi].sky.empty()) {
    const HostMask& m = masks[vi].sky;
    std::vector<uint8_t> sampled;  // at the step's resolution: the centre pixel of each box
    const uint8_t* values = m.values.data();
    if (factor > 1) {
      sampled.resize(px);
      for (int y = 0; y < cam.height; ++y)
        for (int x = 0; x < cam.width; ++x)
          sampled[size_t(y) * cam.width + x] =
              m.values[size_t(y * factor + factor / 2) * m.width + size_t(x * factor + factor / 2)];
      values = sampled.data();
    }
    copy_bytes(dev_, sky_mask_.data(), Device::cpu(), values, px);
    last_sky_loss_ = sky_opacity_loss(dev_, px, fwd.alpha.data(), sky_mask_.data(),
                                      kSkyOpacityLossWeight, v_alpha_.data());
  }
  // Expected depth against the frame's LiDAR returns.
  last_depth_loss_ = 0;
  if (lidar_cache_.dense(*street_, vi, frame, factor, cam, lidar_host_)) {
    copy_bytes(dev_, lidar_depth_.data(), Device::cpu(), lidar_host_.data(), px * sizeof(float));
    last_depth_loss_ = lidar_depth_loss(dev_, px, fwd.depth.data(), fwd.alpha.data(),
                                        lidar_depth_.data(), kLidarDepthLossWeight,
                                        v_depth_.data(), v_alpha_.data());
  }
  last_loss_.loss += regulariser + last_sky_loss_ + last_depth_loss_;
}

void TrainingRun::step_with_recovery(int step) {
  for (int attempt = 0;; ++attempt) {
    try {
      train_step(step);
      return;
    } catch (const OutOfMemoryError& e) {
      if (attempt >= kMaxOomRetries) throw;
      // Free room (the lowest-priority node first), lower its growth limit, retry the step.
      std::vector<SceneNode*> ptrs;
      for (auto& n : nodes_) ptrs.push_back(n.get());
      const std::string ev = budget_->recover_from_oom(ptrs, step, e.what(), kOomPruneFraction);
      events_.push_back(ev);
      log_warn(ev);
    }
  }
}

size_t TrainingRun::prune_floor(size_t i) const {
  // 0 turns the floor off (then a node can empty, and the run fails, naming the step).
  const double f = cfg_.densify.prune_floor;
  const double peak = double(budget_->node(i).peak_count);
  return f > 0 ? std::max<size_t>(1, size_t(std::ceil(f * peak))) : 0;
}

void TrainingRun::densify_node(size_t i, int step) {
  const DensifyConfig& d = cfg_.densify;
  NodeBudget& b = budget_->node(i);
  DensifySettings s;
  s.grad_threshold = node_cfgs_[i]->grad_threshold;
  s.percent_dense = d.percent_dense;
  s.scene_extent = data_.scene_extent;
  s.min_opacity = d.min_opacity;
  s.prune_big = d.opacity_reset_every > 0 && step > d.opacity_reset_every;
  if (screen_size_rules(i, step)) {
    s.prune_screen_size = float(d.prune_screen_fraction);
    s.split_screen_size = float(d.split_screen_fraction);
  }
  if (street())
    // drivestudio's OmniRe: cull scales above 0.5 R (nodes in box frames: 0.1 R).
    s.max_world_scale = nodes_[i]->kind() == NodeKind::background ? 0.5 : 0.1;
  s.min_keep = prune_floor(i);
  s.capacity_limit = b.growth_limit;
  // One generator per (seed, step, node): node 0 keeps the single-node runs' sequence.
  std::mt19937_64 rng(cfg_.train.seed * 7919ull + uint64_t(step) + 104729ull * i);
  const DensifyResult r = nodes_[i]->densify(s, rng);
  b.threshold_used = r.threshold_used;
  const std::string who = nodes_.size() > 1 ? " of '" + nodes_[i]->name() + "'" : "";
  char buf[400];
  std::snprintf(buf, sizeof(buf),
                "densify%s at step %d: %zu -> %zu (clone %zu, split %zu, prune %zu; %zu of %zu "
                "candidates admitted, threshold %.3g)",
                who.c_str(), step, r.count_before, r.count_after, r.cloned, r.split, r.pruned,
                r.admitted, r.candidates, r.threshold_used);
  last_densify_event_ = buf;
  events_.push_back(buf);
  if (r.spared > 0) {
    std::snprintf(buf, sizeof(buf),
                  "prune floor%s at step %d: kept %zu Gaussians marked for pruning (the node "
                  "keeps at least %zu = densify.prune_floor x its peak %zu)",
                  who.c_str(), step, r.spared, s.min_keep, b.peak_count);
    events_.push_back(buf);
    log_warn(buf);
  }
}

// Densify / prune / reset, in graphdeco's order and windows: densify every `every` steps in
// (start, stop), then reset opacities every `opacity_reset_every` steps before stop, and once at
// the densify start on a white background (graphdeco: floaters in front of the white show up
// then and the reset lets pruning take them).
void TrainingRun::maybe_densify(int step) {
  const DensifyConfig& d = cfg_.densify;
  const int last = cfg_.train.iterations;
  // Nothing is densified at the very last step: the new Gaussians would never be trained.
  if (step > d.start && d.every > 0 && step % d.every == 0 && step < last) {
    const bool paused = paused_after_reset(step);
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (step >= densify_stop(i)) continue;
      if (paused) nodes_[i]->model().clear_statistics();
      else densify_node(i, step);
    }
  }
  // An opacity reset needs steps to recover from (graphdeco's 3k-step run would otherwise end
  // right after one, all opacities at 0.01): skip it with less than a third of an interval left.
  if (opacity_reset_at(step)) {
    for (auto& n : nodes_) n->reset_opacity();
    events_.push_back("opacity reset at step " + std::to_string(step));
  }
  for (size_t i = 0; i < nodes_.size(); ++i)
    budget_->node(i).peak_count = std::max(budget_->node(i).peak_count, nodes_[i]->count());
}

bool TrainingRun::opacity_reset_at(int step) const {
  const DensifyConfig& d = cfg_.densify;
  const int last = cfg_.train.iterations;
  const bool periodic = d.opacity_reset_every > 0 && step > 0 && step % d.opacity_reset_every == 0;
  const bool at_start = cfg_.data.background == "white" && step == d.start && d.start > 0;
  return (periodic || at_start) && step < d.stop && step + d.opacity_reset_every / 3 <= last;
}

bool TrainingRun::paused_after_reset(int step) const {
  const DensifyConfig& d = cfg_.densify;
  if (!d.pause_after_reset || d.opacity_reset_every <= 0) return false;
  const int pause = std::max(int(data_.train.size()), d.every);
  // Steps since the last periodic reset (0: this step's, which comes after its densify).
  const int since = step % d.opacity_reset_every;
  return since > 0 && since <= pause && step - since > 0 && opacity_reset_at(step - since);
}

void TrainingRun::check_health(int step) {
  for (const auto& n : nodes_)
    if (n->count() == 0)
      fail(step, "node '" + n->name() + "' has no Gaussians left",
           "lower densify.min_opacity, or set densify.prune_floor above 0 (a fraction of the "
           "node's peak count that pruning keeps)");
  const std::string why = watch_.observe(step, last_loss_.loss);
  if (!why.empty())
    fail(step, why,
         "lower the learning rates (train.lr_*); --resume continues from the checkpoint with "
         "the new config");
}

void TrainingRun::fail(int step, const std::string& why, const std::string& hint) {
  const std::string what = "training failed at step " + std::to_string(step) + ": " + why;
  events_.push_back(what);
  log_step(step);  // the logs end with the failing step and its events
  const std::string kept =
      last_saved_step_ > 0
          ? "the last good checkpoint (step " + std::to_string(last_saved_step_) + ") is kept in " +
                out_ + "/checkpoints/latest.ckpt"
          : "no checkpoint was written before the failure";
  throw TrainingFailed(what + "; last densify event: " + last_densify_event_ + "; " + kept,
                       hint + "; train.jsonl and memory.jsonl show the steps before");
}

}  // namespace gs
