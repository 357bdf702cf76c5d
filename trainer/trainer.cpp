// The training run (see trainer.h). One TrainingRun object holds the state of a run; its
// methods follow the data flow of DESIGN.md §1: data → plan → model → steps → outputs.
#include "trainer/trainer.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/logging.h"
#include "core/memory_accounting.h"
#include "datasets/dataset.h"
#include "datasets/scene_generator.h"
#include "deform/deformation_field.h"
#include "rasterizer/rasterize.h"
#include "rasterizer/sh.h"
#include "trainer/adam.h"
#include "trainer/adam_split.h"
#include "trainer/budget_planner.h"
#include "trainer/checkpoint.h"
#include "trainer/densify.h"
#include "trainer/evaluation.h"
#include "trainer/gaussian_model.h"
#include "trainer/init_gaussians.h"
#include "trainer/loss.h"
#include "trainer/loss_watch.h"
#include "trainer/memory_monitor.h"
#include "trainer/ply_io.h"
#include "trainer/progress.h"
#include "trainer/train_images.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

// The signal that asked the run to stop (SIGINT from Ctrl-C, SIGTERM from job schedulers and
// containers), or 0. Both are handled alike: a checkpoint, then exit.
std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

// Installs the stop handlers for the lifetime of a run and restores the previous ones.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    previous_int_ = std::signal(SIGINT, on_stop_signal);
    previous_term_ = std::signal(SIGTERM, on_stop_signal);
  }
  ~StopSignals() {
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  void (*previous_int_)(int) = SIG_DFL;
  void (*previous_term_)(int) = SIG_DFL;
};

// How many times one step is retried after a refused allocation (each retry prunes first).
constexpr int kMaxOomRetries = 5;
constexpr double kOomPruneFraction = 0.05;

void write_text_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << text;
    if (!f) throw IoError("cannot write '" + tmp + "'", "check --out is writable");
  }
  fs::rename(tmp, path);
}

// One line of a JSONL log, flushed so a crash loses nothing already logged.
class JsonlWriter {
 public:
  explicit JsonlWriter(const std::string& path) : out_(path, std::ios::app) {
    if (!out_) throw IoError("cannot open '" + path + "' for writing", "check --out is writable");
  }
  void write(const nlohmann::ordered_json& j) { out_ << j.dump() << "\n" << std::flush; }

 private:
  std::ofstream out_;
};

std::array<float, 3> background_of(const Config& c) {
  return c.data.background == "black" ? std::array<float, 3>{0, 0, 0}
                                      : std::array<float, 3>{1, 1, 1};
}

class TrainingRun {
 public:
  TrainingRun(const Config& config, const TrainerOptions& options)
      : cfg_(config),
        opt_(options),
        out_(config.out_dir),
        watch_(config.train.divergence_factor, config.train.divergence_steps) {}

  TrainSummary run();

 private:
  void setup_outputs();
  void setup_data();
  void setup_plan();
  void setup_model();
  void restore_checkpoint();
  // One optimisation step; false when it had to be abandoned (never happens without OOM).
  void train_step(int step);
  void step_with_recovery(int step);
  void maybe_densify(int step);
  // Throws TrainingFailed (after logging the step) when the run cannot go on.
  void check_health(int step);
  [[noreturn]] void fail(int step, const std::string& why, const std::string& hint);
  // The pruning floor of the node: a fraction of its peak count.
  size_t prune_floor() const;
  void log_step(int step);
  void save(int step, const std::string& why);
  void log_test(int step);
  void export_ply(int step);
  void finish(TrainSummary& summary, int last_step);
  nlohmann::json trainer_state() const;
  size_t persistent_bytes() const;
  size_t predicted_peak() const;
  // The deformation field deforms the Gaussians after the static warm-up.
  bool deforming(int step) const { return field_ && step > cfg_.deform.warmup_steps; }
  float time_noise(int step) const;
  // Rasterizer inputs for a view of the evaluation: deformed to the view's time when deforming.
  GaussianInputs gaussians_at(float time);
  ViewGaussians view_placer() {
    if (!field_) return {};
    return [this](const View& v) { return gaussians_at(v.time); };
  }
  // The first `count` floats of a buffer on the run's device, on the host.
  std::vector<float> copy_rows(const float* src, size_t count) const {
    std::vector<float> host(count);
    copy_bytes(Device::cpu(), host.data(), dev_, src, count * sizeof(float));
    return host;
  }
  std::vector<CheckpointTensor> checkpoint_tensors();

  Config cfg_;  // not const: the plan may lower data.width/height
  const TrainerOptions opt_;
  const std::string out_;
  Device dev_;
  Dataset data_;
  MemoryModel model_;
  MemoryPlan plan_;
  const NodeConfig* node_cfg_ = nullptr;
  std::unique_ptr<GaussianModel> gauss_;
  std::unique_ptr<DeformationField<float>> field_;  // deformable nodes only
  std::unique_ptr<TrainImages> images_;
  RasterSettings raster_;
  AdamSettings adam_;
  // Buffers of every step, allocated once (per-view transients; raster category).
  Buffer<float> target_, v_rgb_, colors_, v_sh_;
  LossWorkspace loss_ws_;
  std::unique_ptr<MemoryMonitor> monitor_;
  std::unique_ptr<JsonlWriter> train_log_;
  std::unique_ptr<Progress> progress_;

  // Controller state.
  size_t capacity_limit_ = 0;        // densification grows up to here (≤ capacity)
  double transient_per_gaussian_ = 0;  // calibrated per-view bytes per Gaussian
  double threshold_used_ = 0;
  std::vector<std::string> events_;
  int first_step_ = 1;
  bool resolution_lowered_ = false;  // the plan lowered data.width/height (applies to any scene)
  int last_step_ = 0;  // the step most recently trained
  size_t peak_count_ = 0;  // the node's largest count in the run (the prune floor's base)
  std::string last_densify_event_ = "none yet";
  LossWatch watch_;
  int last_saved_step_ = 0;     // the step of the checkpoint on disk (0: none)
  bool save_pending_ = false;   // a periodic save waits for a healthy step
  double train_seconds_before_ = 0;  // from a resumed checkpoint

  // Per-step results for logging.
  LossResult last_loss_;
  double last_psnr_ = 0;
  size_t last_instances_ = 0, last_visible_ = 0;
  std::chrono::steady_clock::time_point t_start_, t_log_;
  int steps_since_log_ = 0;
};

void TrainingRun::setup_outputs() {
  fs::create_directories(out_);
  fs::create_directories(out_ + "/checkpoints");
  write_text_atomic(out_ + "/config.yaml", config_to_yaml(cfg_));
}

void TrainingRun::setup_data() {
  std::string path = cfg_.data.path;
  if (path.empty()) {
    path = default_scene_dir(cfg_);
    if (!fs::exists(path + "/transforms_train.json")) {
      GeneratedSceneOptions g;
      g.kind = cfg_.scene == SceneKind::deformable ? "dynamic" : "static";
      g.white_background = cfg_.data.background != "black";
      log_info("generating the embedded default scene into ", path);
      generate_scene(path, g);
    }
  }
  DatasetOptions o;
  o.format = cfg_.data.format == "auto" || cfg_.data.format == "generated" ? "auto" : cfg_.data.format;
  o.downscale = cfg_.data.downscale;
  o.width = cfg_.data.width;
  o.height = cfg_.data.height;
  if (cfg_.data.path.empty() && !resolution_lowered_) {
    // The presets' resolution is for real captures; the embedded scene trains at its own.
    if (o.width != 0 || o.height != 0)
      log_info("data: the embedded scene trains at its native resolution (data.width/height "
               "apply to data.path)");
    o.width = o.height = 0;
  }
  o.background = background_of(cfg_);
  o.test_every = cfg_.data.test_every;
  o.init_random_points = int(node_cfg_->init_points);
  o.seed = uint32_t(cfg_.train.seed);
  data_ = load_dataset(path, o);
  if (data_.train.empty()) throw IoError("dataset '" + path + "' has no training views");
  log_info("data: ", data_.format, " '", path, "': ", data_.train.size(), " train / ",
           data_.test.size(), " test views at ", data_.train[0].camera.width, "x",
           data_.train[0].camera.height, ", ", data_.init_points.size() / 3, " initial points (",
           data_.init_source, "), extent ", data_.scene_extent);
}

void TrainingRun::setup_plan() {
  PlanInputs in = plan_inputs_from_config(cfg_, dev_.is_cuda());
  in.width = data_.train[0].camera.width;
  in.height = data_.train[0].camera.height;
  in.resolution_assumed = false;
  in.images = int(data_.train.size());
  // The points the data actually brought, not the config's estimate.
  for (NodeConfig& n : in.nodes)
    if (n.name == node_cfg_->name) n.init_points = int64_t(data_.init_points.size() / 3);
  if (dev_.is_cuda()) {
    // The context and anything else already on the device count against the budget.
    if (auto info = device_memory_info(dev_))
      in.context_bytes = info->total_bytes - info->free_bytes;
  }
  plan_ = plan_memory(in, model_);
  log_info(format_plan_table(plan_, cfg_.source_file + " on " + dev_.name()));
  if (!plan_.fits) throw PlanDoesNotFit(plan_.refusal);
  if (plan_.width != in.width || plan_.height != in.height) {
    // The last rung of the ladder: train at the planned resolution rather than not at all.
    log_warn("memory: the budget needs a lower training resolution: reloading the data at ",
             plan_.width, "x", plan_.height, " (raise memory.budget_gb to keep ", in.width, "x",
             in.height, ")");
    cfg_.data.width = plan_.width;
    cfg_.data.height = plan_.height;
    resolution_lowered_ = true;
    setup_data();
  }
  for (const std::string& d : plan_.degrade) events_.push_back("degrade: " + d);
  if (cfg_.memory.enforce) {
    const size_t cap = plan_.usable_bytes - plan_.fixed.context;
    MemoryAccountant::of(dev_.kind).set_cap(cap);
    log_info("memory: accounting allocator capped at ", format_bytes(cap));
  } else {
    MemoryAccountant::of(dev_.kind).set_cap(0);  // 0: no cap
  }
}

void TrainingRun::setup_model() {
  const NodePlan* np = plan_.find(node_cfg_->name);
  GS_CHECK(np != nullptr, "plan has no node " + node_cfg_->name);
  gauss_ = std::make_unique<GaussianModel>(np->name, dev_, np->sh_degree, size_t(np->max_gaussians));
  capacity_limit_ = gauss_->capacity();
  threshold_used_ = np->grad_threshold;
  const GaussianCost c = np->cost;
  transient_per_gaussian_ = double(c.grads + c.render_set + c.raster + c.tile_instances);

  const GaussianCloud init = gaussians_from_points(data_.init_points, data_.init_colors,
                                                   np->sh_degree, gauss_->capacity(), cfg_.train.seed);
  gauss_->load_cloud(init);
  log_info("node '", np->name, "': ", gauss_->count(), " initial Gaussians, capacity ",
           gauss_->capacity(), ", SH ", np->sh_degree, ", ", format_bytes(gauss_->allocated_bytes()),
           " allocated");

  if (node_cfg_->kind == NodeKind::deformable) {
    const DeformConfig& d = cfg_.deform;
    DeformationFieldConfig fc;
    fc.depth = d.depth;
    fc.width = d.width;
    fc.skip_after = d.skip_layer;
    fc.encoding.position_freqs = d.position_frequencies;
    fc.encoding.time_freqs = d.time_frequencies;
    fc.seed = cfg_.train.seed;
    GS_CHECK(plan_.mlp_chunk_gaussians > 0, "the plan has no MLP chunk for a deformable node");
    field_ = std::make_unique<DeformationField<float>>(fc, dev_, gauss_->capacity(),
                                                       size_t(plan_.mlp_chunk_gaussians));
    log_info("deformation field: ", d.depth, "x", d.width, " MLP, skip after layer ", d.skip_layer,
             ", encoding L=", d.position_frequencies, "/", d.time_frequencies, ", ",
             field_->mlp().params().size(), " weights; ", field_->chunk_rows(),
             " Gaussians per chunk; ", format_bytes(field_->bytes()), " allocated (",
             format_bytes(field_->activation_bytes()), " activations); switches on after step ",
             d.warmup_steps);
  }

  images_ = std::make_unique<TrainImages>(dev_, data_.train_images, plan_.images_on_device);
  const Camera& cam = data_.train[0].camera;
  const size_t px = size_t(cam.width) * cam.height;
  target_ = Buffer<float>(dev_, px * 3, MemCategory::raster);
  v_rgb_ = Buffer<float>(dev_, px * 3, MemCategory::raster);
  colors_ = Buffer<float>(dev_, gauss_->capacity() * 3, MemCategory::raster);
  v_sh_ = Buffer<float>::zeros(dev_, gauss_->capacity() * 3 * sh_coeff_count(np->sh_degree),
                               MemCategory::grads);
  loss_ws_.reserve(dev_, cam.width, cam.height);

  const auto bg = background_of(cfg_);
  for (int i = 0; i < 3; ++i) raster_.background[i] = bg[i];
  raster_.antialias = cfg_.train.antialias;
}

nlohmann::json TrainingRun::trainer_state() const {
  return {{"capacity_limit", capacity_limit_},
          {"peak_count", peak_count_},
          {"loss_watch", watch_.state()},
          {"transient_per_gaussian", transient_per_gaussian_},
          {"threshold_used", threshold_used_},
          {"train_seconds", train_seconds_before_ +
                                std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                              t_start_).count()}};
}

void TrainingRun::restore_checkpoint() {
  const std::string path = out_ + "/checkpoints/latest.ckpt";
  if (!fs::exists(path))
    throw IoError("--resume: no checkpoint at '" + path + "'",
                  "start without --resume, or point --out at the run to continue");
  const LoadedCheckpoint ck = load_checkpoint(path, {gauss_.get()}, checkpoint_tensors());
  first_step_ = ck.step + 1;
  last_step_ = ck.step;
  const nlohmann::json& s = ck.trainer_state;
  capacity_limit_ = s.value("capacity_limit", capacity_limit_);
  transient_per_gaussian_ = s.value("transient_per_gaussian", transient_per_gaussian_);
  threshold_used_ = s.value("threshold_used", threshold_used_);
  train_seconds_before_ = s.value("train_seconds", 0.0);
  peak_count_ = s.value("peak_count", gauss_->count());
  if (s.contains("loss_watch")) watch_.restore(s["loss_watch"]);
  last_saved_step_ = ck.step;
  events_.push_back("resumed from step " + std::to_string(ck.step));
  log_info("resumed from '", path, "' at step ", ck.step, " with ", gauss_->count(), " Gaussians");
}

// Bytes that do not depend on the per-view state: the model at capacity and the step buffers.
size_t TrainingRun::persistent_bytes() const {
  return gauss_->allocated_bytes() + target_.bytes() + v_rgb_.bytes() + colors_.bytes() +
         v_sh_.bytes() + loss_ws_.bytes() + (field_ ? field_->bytes() : 0) +
         plan_.fixed.images * (images_->cached_on_device() ? 1 : 0);
}

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

GaussianInputs TrainingRun::gaussians_at(float time) {
  GaussianModel& g = *gauss_;
  GaussianInputs in = g.inputs(nullptr);
  if (!deforming(last_step_)) return in;
  field_->forward(g.params(GaussianParam::means), g.params(GaussianParam::log_scales),
                  g.params(GaussianParam::quats), g.count(), time);
  in.means = field_->deformed_means();
  in.log_scales = field_->deformed_log_scales();
  in.quats = field_->deformed_quats();
  return in;
}

std::vector<CheckpointTensor> TrainingRun::checkpoint_tensors() {
  if (!field_) return {};
  return {{"deform.mlp.params", &field_->mlp().params()},
          {"deform.mlp.adam_m", &field_->adam_m()},
          {"deform.mlp.adam_v", &field_->adam_v()}};
}

size_t TrainingRun::predicted_peak() const {
  return persistent_bytes() + size_t(transient_per_gaussian_ * double(gauss_->count()));
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
  const Camera& cam = data_.train[vi].camera;
  last_step_ = step;

  GaussianModel& g = *gauss_;
  const size_t n = g.count();
  const int degree = g.sh_degree();
  const int active = std::min(degree, (step - 1) / std::max(cfg_.train.sh_increase_every, 1));
  const auto campos = camera_center(cam);

  images_->fetch(vi, target_);
  GaussianInputs in = g.inputs(colors_.data());
  const bool deform = deforming(step);
  const float t = data_.train[vi].time + time_noise(step);
  if (deform) {
    // Render the Gaussians deformed to this view's time; colours see the deformed means.
    field_->forward(g.params(GaussianParam::means), g.params(GaussianParam::log_scales),
                    g.params(GaussianParam::quats), n, t);
    in.means = field_->deformed_means();
    in.log_scales = field_->deformed_log_scales();
    in.quats = field_->deformed_quats();
  }
  sh_to_color_forward(dev_, n, degree, active, g.params(GaussianParam::sh), in.means,
                      campos.data(), colors_.data());
  const RasterForward fwd = rasterize_forward(dev_, in, cam, raster_);
  last_loss_ = image_loss_forward_backward(dev_, cam.width, cam.height, fwd.rgb.data(),
                                           target_.data(), float(cfg_.train.lambda_dssim),
                                           v_rgb_.data(), &loss_ws_);
  RasterGradients grads =
      rasterize_backward(dev_, in, cam, raster_, fwd, v_rgb_.data(), nullptr, nullptr);
  sh_to_color_backward(dev_, n, degree, active, g.params(GaussianParam::sh), in.means,
                       campos.data(), grads.v_colors.data(), v_sh_.data(), grads.v_means.data());
  if (deform) {
    // Gradients of the deformed Gaussians → canonical ones (in place) and the MLP's weights.
    field_->mlp().zero_grad();
    field_->backward(g.params(GaussianParam::means), g.params(GaussianParam::log_scales),
                     g.params(GaussianParam::quats), n, t, grads.v_means.data(),
                     grads.v_log_scales.data(), grads.v_quats.data());
  }
  // The training-view PSNR for the console and train.jsonl, on the steps that report it.
  if (step % std::max(cfg_.train.log_every, 1) == 0 || step == first_step_)
    last_psnr_ = psnr(dev_, cam.width, cam.height, fwd.rgb.data(), target_.data());
  last_instances_ = fwd.stats.instances;
  last_visible_ = fwd.stats.visible;

  // Statistics for densification, as graphdeco gathers them: while step < densify.stop.
  if (step < cfg_.densify.stop) {
    if (cfg_.densify.absgrad)
      accumulate_densify_stats(g, grads.absgrad.data(), fwd.radii.data());
    else
      accumulate_densify_stats(g, grads.v_mean2d.data(), fwd.radii.data(), 0.5f * cam.width,
                               0.5f * cam.height);
  }

  // Adam, one group per parameter kind (the gradients are this step's buffers: no reset).
  AdamSettings a = adam_;
  a.zero_grad = false;
  const double extent = data_.scene_extent;
  auto group = [&](GaussianParam p, float* grad, double lr) {
    ParamGroup pg;
    pg.name = to_string(p);
    pg.params = g.params(p);
    pg.grads = grad;
    pg.m = g.adam_m(p);
    pg.v = g.adam_v(p);
    pg.row_size = group_row_floats(p, degree);
    pg.count = n * pg.row_size;
    pg.lr = lr;
    return pg;
  };
  const double lr_pos = exponential_lr(step, cfg_.train.lr_position_init * extent,
                                       cfg_.train.lr_position_final * extent, cfg_.train.iterations);
  ParamGroup pm = group(GaussianParam::means, grads.v_means.data(), lr_pos);
  adam_step(dev_, pm, step, a);
  ParamGroup ps = group(GaussianParam::log_scales, grads.v_log_scales.data(), cfg_.train.lr_scale);
  adam_step(dev_, ps, step, a);
  ParamGroup pq = group(GaussianParam::quats, grads.v_quats.data(), cfg_.train.lr_rotation);
  adam_step(dev_, pq, step, a);
  ParamGroup po = group(GaussianParam::opacity, grads.v_opacity_logits.data(), cfg_.train.lr_opacity);
  adam_step(dev_, po, step, a);
  ParamGroup psh = group(GaussianParam::sh, v_sh_.data(), cfg_.train.lr_sh_rest);
  adam_step_split_rows(dev_, psh, 3, cfg_.train.lr_sh_dc, step, a);
  if (deform) {
    // The MLP's own Adam: its step count starts when it switches on (as its optimizer's does
    // in Deformable-3DGS); its learning rate follows the global step.
    ParamGroup pd;
    pd.name = "deform_mlp";
    pd.params = field_->mlp().params().data();
    pd.grads = field_->mlp().grads().data();
    pd.m = field_->adam_m().data();
    pd.v = field_->adam_v().data();
    pd.count = field_->mlp().params().size();
    pd.lr = exponential_lr(step, cfg_.deform.lr, cfg_.deform.lr_final, cfg_.train.iterations);
    adam_step(dev_, pd, step - cfg_.deform.warmup_steps, a);
  }
}

void TrainingRun::step_with_recovery(int step) {
  for (int attempt = 0;; ++attempt) {
    try {
      train_step(step);
      return;
    } catch (const OutOfMemoryError& e) {
      if (attempt >= kMaxOomRetries) throw;
      // Free room, lower the node's growth limit to what it now holds, and retry the step.
      const size_t removed = prune_lowest_opacity(*gauss_, kOomPruneFraction);
      capacity_limit_ = std::min(capacity_limit_, gauss_->count());
      const std::string ev = "recovered OOM at step " + std::to_string(step) + " (" + e.what() +
                             "): pruned " + std::to_string(removed) + " Gaussians, cap now " +
                             std::to_string(capacity_limit_);
      events_.push_back(ev);
      log_warn(ev);
    }
  }
}

size_t TrainingRun::prune_floor() const {
  // 0 turns the floor off (then a node can empty, and the run fails, naming the step).
  const double f = cfg_.densify.prune_floor;
  return f > 0 ? std::max<size_t>(1, size_t(std::ceil(f * double(peak_count_)))) : 0;
}

// Densify / prune / reset, in graphdeco's order and windows: densify every `every` steps in
// (start, stop), then reset opacities every `opacity_reset_every` steps before stop, and once at
// the densify start on a white background (graphdeco: floaters in front of the white show up
// then and the reset lets pruning take them).
void TrainingRun::maybe_densify(int step) {
  const DensifyConfig& d = cfg_.densify;
  const int last = cfg_.train.iterations;
  // Nothing is densified at the very last step: the new Gaussians would never be trained.
  if (step < d.stop && step > d.start && d.every > 0 && step % d.every == 0 && step < last) {
    const Camera& cam = data_.train[0].camera;
    DensifySettings s;
    s.grad_threshold = node_cfg_->grad_threshold;
    s.percent_dense = d.percent_dense;
    s.scene_extent = data_.scene_extent;
    s.min_opacity = d.min_opacity;
    s.prune_big = d.opacity_reset_every > 0 && step > d.opacity_reset_every;
    s.max_screen_radius = float(d.prune_screen_fraction * std::max(cam.width, cam.height));
    s.min_keep = prune_floor();
    s.capacity_limit = capacity_limit_;
    std::mt19937_64 rng(cfg_.train.seed * 7919ull + uint64_t(step));
    const DensifyResult r = densify_and_prune(*gauss_, s, rng);
    threshold_used_ = r.threshold_used;
    char buf[320];
    std::snprintf(buf, sizeof(buf),
                  "densify at step %d: %zu -> %zu (clone %zu, split %zu, prune %zu; %zu of %zu "
                  "candidates admitted, threshold %.3g)",
                  step, r.count_before, r.count_after, r.cloned, r.split, r.pruned, r.admitted,
                  r.candidates, r.threshold_used);
    last_densify_event_ = buf;
    events_.push_back(buf);
    if (r.spared > 0) {
      std::snprintf(buf, sizeof(buf),
                    "prune floor at step %d: kept %zu Gaussians marked for pruning (the node "
                    "keeps at least %zu = densify.prune_floor x its peak %zu)",
                    step, r.spared, s.min_keep, peak_count_);
      events_.push_back(buf);
      log_warn(buf);
    }
  }
  // An opacity reset needs steps to recover from (graphdeco's 3k-step run would otherwise end
  // right after one, all opacities at 0.01): skip it with less than a third of an interval left.
  const bool periodic = d.opacity_reset_every > 0 && step % d.opacity_reset_every == 0;
  const bool at_start = cfg_.data.background == "white" && step == d.start && d.start > 0;
  if ((periodic || at_start) && step < d.stop && step + d.opacity_reset_every / 3 <= last) {
    reset_opacity(*gauss_);
    events_.push_back("opacity reset at step " + std::to_string(step));
  }
  peak_count_ = std::max(peak_count_, gauss_->count());
}

void TrainingRun::check_health(int step) {
  if (gauss_->count() == 0)
    fail(step, "node '" + gauss_->name() + "' has no Gaussians left",
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

void TrainingRun::log_step(int step) {
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - t_log_).count();
  const double its = dt > 0 ? steps_since_log_ / dt : 0;
  t_log_ = now;
  steps_since_log_ = 0;

  // Memory: what the model predicted for this window against what was measured, then
  // calibrate the per-view bytes per Gaussian and re-plan the node's growth limit.
  const size_t predicted = predicted_peak();
  MemoryLogEntry e;
  e.step = step;
  e.nodes.push_back({gauss_->name(), gauss_->count(), capacity_limit_, threshold_used_});
  e.predicted_bytes = predicted;
  e.multiplier = gauss_->count() > 0 ? double(predicted) / (double(gauss_->count()) * 236.0) : 0;
  e.events = events_;
  events_.clear();
  if (field_)
    e.mlp = MlpMemoryStatus{deforming(step), field_->chunk_rows(), field_->activation_bytes(),
                            field_->state_bytes(), field_->per_gaussian_bytes(),
                            field_->recomputed_chunks()};
  const size_t measured = monitor_->log(e);
  const size_t persistent = persistent_bytes();
  if (gauss_->count() > 0 && measured > persistent) {
    const double per = double(measured - persistent) / double(gauss_->count());
    transient_per_gaussian_ = per;  // the last window is the best predictor of the next
    const size_t cap = MemoryAccountant::of(dev_.kind).cap();
    if (cap > 0 && cap > persistent) {
      const size_t fits = size_t(double(cap - persistent) / per);
      const size_t limit = std::min(gauss_->capacity(), fits);
      if (limit != capacity_limit_) {
        events_.push_back("re-plan: node '" + gauss_->name() + "' growth limit " +
                          std::to_string(capacity_limit_) + " -> " + std::to_string(limit) +
                          " (calibrated " + std::to_string(int(per)) + " B/Gaussian per view)");
        capacity_limit_ = limit;
      }
    }
  }

  nlohmann::ordered_json j;
  j["step"] = step;
  j["loss"] = last_loss_.loss;
  j["l1"] = last_loss_.l1;
  j["ssim"] = last_loss_.ssim;
  j["psnr"] = last_psnr_;
  j["gaussians"] = gauss_->count();
  j["visible"] = last_visible_;
  j["instances"] = last_instances_;
  j["it_per_s"] = its;
  j["elapsed_s"] = train_seconds_before_ + std::chrono::duration<double>(now - t_start_).count();
  train_log_->write(j);
}

// Held-out views mid-run (no images written): one train.jsonl line with the test metrics.
void TrainingRun::log_test(int step) {
  if (data_.test.empty()) return;
  const EvalResult ev = evaluate_views(*gauss_, data_.test, data_.test_images, raster_, "",
                                       view_placer());
  nlohmann::ordered_json j;
  j["step"] = step;
  j["test_psnr"] = ev.psnr;
  j["test_ssim"] = ev.ssim;
  j["test_views"] = ev.views;
  j["gaussians"] = gauss_->count();
  train_log_->write(j);
  char buf[160];
  std::snprintf(buf, sizeof(buf), "test at step %d: PSNR %.2f dB, SSIM %.4f over %zu views", step,
                ev.psnr, ev.ssim, ev.views);
  progress_->message(buf);
}

void TrainingRun::save(int step, const std::string& why) {
  if (!watch_.healthy()) {
    // A diverging model would replace the last good checkpoint: keep that one.
    log_warn("checkpoint not saved at step ", step, " (", why, "): the smoothed loss ",
             watch_.smoothed(), " is above ", cfg_.train.divergence_factor, " x its best ",
             watch_.best(), "; ", last_saved_step_ > 0 ? "latest.ckpt stays at step " +
             std::to_string(last_saved_step_) : std::string("no checkpoint yet"));
    return;
  }
  save_checkpoint(out_ + "/checkpoints/latest.ckpt", step, {gauss_.get()}, trainer_state(),
                  checkpoint_tensors());
  last_saved_step_ = step;
  log_info("checkpoint saved at step ", step, " (", why, ")");
}

void TrainingRun::export_ply(int step) {
  const std::string dir = out_ + "/point_cloud/iteration_" + std::to_string(step);
  fs::create_directories(dir);
  write_ply(dir + "/point_cloud.ply", gauss_->to_cloud());
  if (field_ && deforming(step)) {
    // The deformed Gaussians at the chosen time: the canonical cloud with the deformed mean,
    // scale and rotation (opacity and SH are not deformed).
    const float t = float(cfg_.deform.export_time);
    gaussians_at(t);
    GaussianCloud c = gauss_->to_cloud();
    const size_t n = gauss_->count();
    const std::vector<float> m = copy_rows(field_->deformed_means(), n * 3);
    const std::vector<float> s = copy_rows(field_->deformed_log_scales(), n * 3);
    const std::vector<float> q = copy_rows(field_->deformed_quats(), n * 4);
    c.means = m;
    c.log_scales = s;
    c.quats = q;
    char name[64];
    std::snprintf(name, sizeof(name), "/deformed_t%.3f.ply", t);
    write_ply(dir + name, c);
    log_info("deformed Gaussians at t = ", t, " written to ", dir + name);
  }
}

TrainSummary TrainingRun::run() {
  // This version trains one Gaussian node: the background of a static scene, or the deformable
  // node of a deformable scene (its sky node, if any, is not trained yet).
  const NodeKind trained = cfg_.scene == SceneKind::deformable ? NodeKind::deformable
                                                               : NodeKind::background;
  if (cfg_.scene == SceneKind::omnire)
    throw ConfigError("omnire scenes are not trainable yet: this version trains static and "
                          "deformable scenes",
                      "use a static_*gb.yaml or deformable_*gb.yaml preset");
  for (const NodeConfig& n : cfg_.nodes) {
    if (n.kind == trained && !node_cfg_) node_cfg_ = &n;
    else if (n.kind != NodeKind::sky)
      throw ConfigError("node '" + n.name + "' of kind " + to_string(n.kind) +
                            " is not trainable yet: this version trains one " +
                            to_string(trained) + " node per " + to_string(cfg_.scene) + " scene",
                        "remove the node from the config's nodes");
  }
  if (!node_cfg_)
    throw ConfigError(std::string("a ") + to_string(cfg_.scene) + " scene needs a " +
                      to_string(trained) + " node");

  setup_outputs();
  dev_ = resolve_device(cfg_.device);
  // This run's cap and peaks are its own: restore the accountant's cap however the run ends,
  // and start the peak window here (earlier work in this process does not count).
  MemoryAccountant& acc = MemoryAccountant::of(dev_.kind);
  struct CapRestore {
    MemoryAccountant& acc;
    size_t cap;
    ~CapRestore() { acc.set_cap(cap); }
  } restore_cap{acc, acc.cap()};
  acc.reset_peak();
  setup_data();
  setup_plan();
  setup_model();
  if (opt_.resume) restore_checkpoint();

  monitor_ = std::make_unique<MemoryMonitor>(out_ + "/memory.jsonl", dev_, plan_.budget_bytes);
  train_log_ = std::make_unique<JsonlWriter>(out_ + "/train.jsonl");
  progress_ = std::make_unique<Progress>(opt_.progress, cfg_.train.log_every);

  const StopSignals stop_signals;
  t_start_ = t_log_ = std::chrono::steady_clock::now();
  TrainSummary summary;
  summary.budget_bytes = plan_.budget_bytes;
  peak_count_ = std::max(peak_count_, gauss_->count());
  int step = first_step_;
  const int last = cfg_.train.iterations;
  for (; step <= last; ++step) {
    step_with_recovery(step);
    ++steps_since_log_;
    // Held-out views before this step's densify and reset: they measure the model, not the
    // reset (a test on a reset step sees every opacity at 0.01).
    if (cfg_.train.test_every > 0 && step % cfg_.train.test_every == 0 && step != last)
      log_test(step);
    maybe_densify(step);
    check_health(step);  // NaN, divergence, or an emptied node: fail, naming the step
    if (step % cfg_.memory.log_every == 0 || step % cfg_.train.log_every == 0 || step == last ||
        step == first_step_)
      log_step(step);
    ProgressState ps;
    ps.step = step;
    ps.total = last;
    ps.loss = last_loss_.loss;
    ps.psnr = last_psnr_;
    ps.gaussians = gauss_->count();
    ps.memory_bytes = MemoryAccountant::of(dev_.kind).current_total();
    ps.budget_bytes = plan_.budget_bytes;
    progress_->update(ps);
    // A periodic save that falls while the loss is far above its best (right after an opacity
    // reset, say) waits for the first healthy step.
    if (cfg_.train.save_every > 0 && step % cfg_.train.save_every == 0 && step != last)
      save_pending_ = true;
    if (save_pending_ && watch_.healthy()) {
      save(step, "periodic");
      save_pending_ = false;
    }
    const int sig = g_stop_signal;
    const bool stop_here = opt_.stop_after > 0 && step >= opt_.stop_after && step != last;
    if (sig != 0 || stop_here) {
      progress_->finish();
      save(step, sig == SIGTERM ? "SIGTERM" : sig != 0 ? "interrupted" : "--stop-after");
      summary.interrupted = true;
      summary.stop_signal = sig;
      break;
    }
  }
  progress_->finish();
  const int done = summary.interrupted ? step : last;
  finish(summary, done);
  return summary;
}

void TrainingRun::finish(TrainSummary& s, int last_step) {
  s.iterations_done = last_step;
  s.train_seconds = train_seconds_before_ +
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start_).count();
  if (!s.interrupted) {
    save(last_step, "final");
    export_ply(last_step);
  }
  const EvalResult ev = evaluate_views(*gauss_, data_.test, data_.test_images, raster_,
                                       s.interrupted ? "" : out_ + "/test_renders", view_placer());
  s.test_psnr = ev.psnr;
  s.test_ssim = ev.ssim;
  s.test_views = ev.views;
  s.gaussians = gauss_->count();
  s.peak_bytes = std::max(monitor_->run_peak_bytes(), MemoryAccountant::of(dev_.kind).peak_total());

  nlohmann::ordered_json m;
  m["test"] = {{"psnr", ev.psnr}, {"ssim", ev.ssim}, {"views", ev.views}};
  m["gaussians"] = s.gaussians;
  m["iterations"] = last_step;
  m["train_seconds"] = s.train_seconds;
  m["interrupted"] = s.interrupted;
  m["device"] = dev_.name();
  m["budget_bytes"] = s.budget_bytes;
  m["peak_bytes"] = s.peak_bytes;
  m["node"] = {{"name", gauss_->name()}, {"capacity", gauss_->capacity()}, {"sh_degree", gauss_->sh_degree()}};
  if (field_)
    m["deform"] = {{"active", deforming(last_step_)},
                   {"warmup_steps", cfg_.deform.warmup_steps},
                   {"mlp_weights", field_->mlp().params().size()},
                   {"chunk_gaussians", field_->chunk_rows()},
                   {"state_bytes", field_->state_bytes()},
                   {"activation_bytes", field_->activation_bytes()},
                   {"per_gaussian_bytes", field_->per_gaussian_bytes()}};
  write_text_atomic(out_ + "/metrics.json", m.dump(2) + "\n");
  log_info("done: ", last_step, " steps in ", s.train_seconds, " s; test PSNR ", ev.psnr,
           " dB, SSIM ", ev.ssim, " over ", ev.views, " views; ", s.gaussians,
           " Gaussians; peak ", format_bytes(s.peak_bytes), " of budget ",
           format_bytes(s.budget_bytes));
}

}  // namespace

std::string default_scene_dir(const Config& config) {
  return config.out_dir + "/generated_scene_" +
         (config.scene == SceneKind::deformable ? std::string("dynamic") : std::string("static"));
}

TrainSummary run_training(const Config& config, const TrainerOptions& options) {
  TrainingRun run(config, options);
  return run.run();
}

}  // namespace gs
