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

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/logging.h"
#include "core/memory_accounting.h"
#include "budget/budget_controller.h"
#include "budget/budget_planner.h"
#include "budget/memory_monitor.h"
#include "datasets/dataset.h"
#include "datasets/scene_generator.h"
#include "datasets/street_generator.h"
#include "formats/checkpoint.h"
#include "formats/ply_io.h"
#include "optim/loss.h"
#include "optim/loss_watch.h"
#include "rasterizer/rasterize.h"
#include "scene/densify.h"
#include "scene/gaussian_node.h"
#include "scene/init_gaussians.h"
#include "scene/render_set.h"
#include "scene/rigid_node.h"
#include "scene/skeleton_node.h"
#include "trainer/street_nodes.h"
#include "trainer/downsample.h"
#include "trainer/evaluation.h"
#include "trainer/image_formation.h"
#include "trainer/street_data.h"
#include "trainer/street_losses.h"
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
  // Which nodes of the config this version trains (throws ConfigError for the others).
  void select_nodes();
  // node_cfgs_ from cfg_.nodes: the trained Gaussian nodes, background first.
  void collect_trained_nodes();
  // The embedded street scene on a CPU trains a short schedule (see the definition).
  void shorten_embedded_street_run();
  void setup_outputs();
  void setup_data();
  void load_data();
  void setup_plan();
  void setup_model();
  void restore_checkpoint();
  // One optimisation step: render set → rasterizer → loss → backward → each node's backward,
  // statistics and Adam.
  void train_step(int step);
  void step_with_recovery(int step);
  void maybe_densify(int step);
  void densify_node(size_t i, int step);
  // Throws TrainingFailed (after logging the step) when the run cannot go on.
  void check_health(int step);
  [[noreturn]] void fail(int step, const std::string& why, const std::string& hint);
  // The step node i densifies until (its own densify_stop, or densify.stop).
  int densify_stop(size_t i) const {
    return node_cfgs_[i]->densify_stop > 0 ? node_cfgs_[i]->densify_stop : cfg_.densify.stop;
  }
  // Whether node i's screen-size split and prune still apply at `step` (drivestudio stops them
  // at 4000 for the background and 30000 for the boxed nodes).
  bool screen_size_rules(size_t i, int step) const {
    const int stop = node_cfgs_[i]->screen_size_stop > 0 ? node_cfgs_[i]->screen_size_stop
                                                         : cfg_.densify.screen_size_stop;
    return stop == 0 || step < stop;
  }
  // The pruning floor of node i: a fraction of its peak count.
  size_t prune_floor(size_t i) const;
  void log_step(int step);
  void save(int step, const std::string& why);
  void log_test(int step);
  void export_ply(int step);
  void finish(TrainSummary& summary, int last_step);
  nlohmann::json trainer_state() const;
  size_t persistent_bytes() const;
  size_t total_count() const;
  std::vector<GaussianModel*> models();
  std::vector<CheckpointTensor> checkpoint_tensors();
  float time_noise(int step) const;
  bool street() const { return street_ != nullptr; }
  EvalExtras eval_extras();
  // Street scenes: the sky/exposure backward, the sky opacity and LiDAR depth losses of the
  // step (into v_rgb_, v_alpha_, v_depth_ and last_loss_).
  void street_supervision(size_t view, int frame, const Camera& camera, int factor,
                          const RasterForward& forward);
  // Initial Gaussians of node i (its points; a rigid node's per instance, tagged).
  void load_initial_gaussians(SceneNode& node, const NodePlan& plan);
  // The first node with a deformation network (nullptr: none).
  const SceneNode* network_node() const;

  Config cfg_;  // not const: the plan may lower data.width/height
  const TrainerOptions opt_;
  const std::string out_;
  Device dev_;
  Dataset data_;
  MemoryModel model_;
  MemoryPlan plan_;
  std::vector<const NodeConfig*> node_cfgs_;     // the trained nodes, in config order
  std::vector<std::unique_ptr<SceneNode>> nodes_;
  std::unique_ptr<RenderSet> render_set_;
  std::unique_ptr<BudgetController> budget_;
  std::unique_ptr<StreetTraining> street_;           // street scenes only
  std::unique_ptr<RigidInstances> rigid_instances_;       // street scenes only
  std::unique_ptr<RigidInstances> deformable_instances_;  // street scenes only
  std::unique_ptr<SkeletonHumans> humans_;                // street scenes with a skeleton node
  std::unique_ptr<ImageFormation> formation_;        // sky and exposure (street scenes)
  int sky_resolution_ = 0;                           // the config's sky node (street scenes)
  // Street supervision of the step: sky mask, LiDAR depth, and the alpha/depth gradients.
  Buffer<uint8_t> sky_mask_;
  Buffer<float> target_small_;  // the target at ¼ / ½ resolution (street scenes' first steps)
  Buffer<float> lidar_depth_, v_alpha_, v_depth_;
  double last_sky_loss_ = 0, last_depth_loss_ = 0;
  std::vector<EvalRegion> eval_regions_;  // the test views' vehicle and human masks
  std::unique_ptr<TrainImages> images_;
  RasterSettings raster_;
  // Buffers of every step, allocated once (per-view transients; raster category).
  Buffer<float> target_, v_rgb_;
  LossWorkspace loss_ws_;
  std::unique_ptr<MemoryMonitor> monitor_;
  std::unique_ptr<JsonlWriter> train_log_;
  std::unique_ptr<Progress> progress_;

  std::vector<std::string> events_;
  int first_step_ = 1;
  bool resolution_lowered_ = false;  // the plan lowered data.width/height (applies to any scene)
  int last_step_ = 0;  // the step most recently trained
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

void TrainingRun::shorten_embedded_street_run() {
  // The omnire presets' 30k steps are for real segments on a GPU; the embedded street scene on
  // a CPU (what a fresh machine runs first) trains kEmbeddedStreetCpuSteps, which crosses the
  // densification start and reaches the bulk of the quality in a few minutes.
  constexpr int kEmbeddedStreetCpuSteps = 2000;
  if (cfg_.scene != SceneKind::omnire || !cfg_.data.path.empty() || dev_.is_cuda() ||
      cfg_.train.iterations <= kEmbeddedStreetCpuSteps)
    return;
  // and starts its background from at most kEmbeddedBackgroundPoints LiDAR points (the scene
  // is 240×160: a few tens of thousands of Gaussians carry it; densification adds the rest).
  constexpr int64_t kEmbeddedBackgroundPoints = 40000;
  // The sky of a 240×160 image needs no 512² texels a face (and its Adam step is per texel).
  constexpr int kEmbeddedSkyResolution = 64;
  log_info("the embedded street scene trains ", kEmbeddedStreetCpuSteps, " steps on the CPU ("
           "train.iterations = ", cfg_.train.iterations, " is for data.path or a GPU), from at "
           "most ", kEmbeddedBackgroundPoints, " LiDAR points, with a ", kEmbeddedSkyResolution,
           "² sky, deformation from step 600");
  cfg_.train.iterations = kEmbeddedStreetCpuSteps;
  cfg_.train.test_every = std::min(cfg_.train.test_every, kEmbeddedStreetCpuSteps / 4);
  // The deformable node switches on at the same fraction of the run as OmniRe's 3k of 30k, but
  // not before the full resolution (step 500).
  cfg_.deform.warmup_steps = std::min(cfg_.deform.warmup_steps, 600);
  for (NodeConfig& n : cfg_.nodes) {
    if (n.kind == NodeKind::background && n.init_points > kEmbeddedBackgroundPoints) {
      // The random points shrink with the LiDAR points (drivestudio: 100k each to 800k).
      const double f = double(kEmbeddedBackgroundPoints) / double(n.init_points);
      n.near_random_points = int64_t(std::llround(f * double(n.near_random_points)));
      n.far_random_points = int64_t(std::llround(f * double(n.far_random_points)));
      n.init_points = kEmbeddedBackgroundPoints;
    }
    if (n.kind == NodeKind::sky) {
      n.env_map_resolution = std::min(n.env_map_resolution, kEmbeddedSkyResolution);
      sky_resolution_ = n.env_map_resolution;
    }
  }
}

void TrainingRun::setup_outputs() {
  fs::create_directories(out_);
  fs::create_directories(out_ + "/checkpoints");
  write_file_atomic(out_ + "/config.yaml", config_to_yaml(cfg_));
}

void TrainingRun::setup_data() {
  try {
    load_data();
  } catch (const DataError&) {
    throw;
  } catch (const IoError& e) {
    // Whatever the loaders refuse is the user's input data (exit 2), not a runtime failure.
    throw DataError(e.what(), e.hint());
  }
}

void TrainingRun::load_data() {
  if (cfg_.scene == SceneKind::omnire) {
    std::string path = cfg_.data.path;
    if (path.empty()) {
      path = default_scene_dir(cfg_);
      if (!fs::exists(path + "/ego_pose")) {
        log_info("generating the embedded default street scene into ", path);
        generate_street_scene(path, street_generator_preset("small"));
      }
    }
    if (cfg_.data.width != 0 || cfg_.data.height != 0)
      log_info("data: street scenes train at their images' resolution / data.downscale "
               "(data.width/height size the plan before loading)");
    street_ = std::make_unique<StreetTraining>(load_street_training(path, cfg_, data_));
    if (data_.train.empty()) throw IoError("street scene '" + path + "' has no training views");
    // A node with nothing to model in the selected frames is not trained.
    bool removed = false;
    for (size_t i = cfg_.nodes.size(); i-- > 0;) {
      const NodeKind k = cfg_.nodes[i].kind;
      const bool empty = (k == NodeKind::rigid && street_->rigid.instances.empty()) ||
                         (k == NodeKind::deformable && street_->deformable.instances.empty()) ||
                         (k == NodeKind::skeleton && street_->human_instances.empty());
      if (!empty) continue;
      log_warn("node '", cfg_.nodes[i].name, "': no ", to_string(k) == std::string("skeleton")
                   ? "human with poses" : "instance of its kind", " in the selected frames; the "
               "node is not trained");
      cfg_.nodes.erase(cfg_.nodes.begin() + long(i));
      removed = true;
    }
    if (removed) collect_trained_nodes();
    log_info("data: street '", path, "': ", data_.train.size(), " train / ", data_.test.size(),
             " test views at ", data_.train[0].camera.width, "x", data_.train[0].camera.height,
             ", ", data_.init_points.size() / 3, " initial background points (",
             data_.init_source, "), scene radius ", data_.scene_extent);
    return;
  }
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
  o.init_random_points = int(node_cfgs_[0]->init_points);
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
  for (NodeConfig& n : in.nodes) {
    if (n.kind == NodeKind::rigid && street())
      n.init_points = int64_t(street_->rigid.points.size() / 3);
    else if (n.kind == NodeKind::deformable && street())
      n.init_points = int64_t(street_->deformable.points.size() / 3);
    else if (n.kind == NodeKind::skeleton && street())
      n.init_points = std::min<int64_t>(n.init_points, int64_t(street_->human_instances.size()) *
                                                           kMaxTemplateVertices);
    else if (n.name == node_cfgs_[0]->name && street())
      n.init_points = std::min(n.init_points, int64_t(data_.init_points.size() / 3));
    else if (n.name == node_cfgs_[0]->name)
      n.init_points = int64_t(data_.init_points.size() / 3);
  }
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
    if (street()) {
      // Street images are scaled by an integer factor.
      cfg_.data.downscale *= (in.width + plan_.width - 1) / plan_.width;
      cfg_.data.width = cfg_.data.height = 0;
    }
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
  if (street()) {
    // The box-framed nodes' instances (boxes and per-frame poses) and the skinned humans.
    rigid_instances_ = std::make_unique<RigidInstances>(box_node_instances(*street_, street_->rigid));
    deformable_instances_ =
        std::make_unique<RigidInstances>(box_node_instances(*street_, street_->deformable));
    for (const NodeConfig* nc : node_cfgs_)
      if (nc->kind == NodeKind::skeleton)
        humans_ = std::make_unique<SkeletonHumans>(
            skeleton_humans(*street_, data_, *nc, cfg_.train.seed));
  }
  std::vector<double> thresholds;
  double transient = 0;
  for (const NodeConfig* nc : node_cfgs_) {
    const NodePlan* np = plan_.find(nc->name);
    GS_CHECK(np != nullptr, "plan has no node " + nc->name);
    NodeSetup setup;
    setup.config = &cfg_;
    setup.node = nc;
    setup.device = dev_;
    setup.sh_degree = np->sh_degree;
    setup.capacity = size_t(np->max_gaussians);
    setup.scene_extent = data_.scene_extent;
    setup.mlp_chunk = size_t(std::max<int64_t>(plan_.mlp_chunk_gaussians, 0));
    setup.instances =
        nc->kind == NodeKind::deformable ? deformable_instances_.get() : rigid_instances_.get();
    setup.humans = humans_.get();
    std::unique_ptr<SceneNode> node = make_scene_node(setup);
    load_initial_gaussians(*node, *np);
    const GaussianModel& g = node->model();
    log_info("node '", np->name, "': ", g.count(), " initial Gaussians, capacity ", g.capacity(),
             ", SH ", np->sh_degree, ", ", format_bytes(g.allocated_bytes()), " allocated");
    thresholds.push_back(np->grad_threshold);
    const GaussianCost c = np->cost;
    transient = double(c.grads + c.render_set + c.raster + c.tile_instances);
    nodes_.push_back(std::move(node));
  }
  std::vector<SceneNode*> ptrs;
  for (auto& n : nodes_) ptrs.push_back(n.get());
  budget_ = std::make_unique<BudgetController>(ptrs, thresholds, transient);

  images_ = std::make_unique<TrainImages>(dev_, data_.train_images, plan_.images_on_device);
  const Camera& cam = data_.train[0].camera;
  const size_t px = size_t(cam.width) * cam.height;
  target_ = Buffer<float>(dev_, px * 3, MemCategory::raster);
  v_rgb_ = Buffer<float>(dev_, px * 3, MemCategory::raster);
  render_set_ = std::make_unique<RenderSet>(dev_, ptrs);
  loss_ws_.reserve(dev_, cam.width, cam.height);
  ImageFormationSetup fs_setup;
  if (street()) {
    fs_setup.sky_resolution = sky_resolution_;
    fs_setup.exposure_images = data_.train.size();
    fs_setup.width = cam.width;
    fs_setup.height = cam.height;
    sky_mask_ = Buffer<uint8_t>(dev_, px, MemCategory::raster);
    target_small_ = Buffer<float>(dev_, (size_t(cam.width / 2) * size_t(cam.height / 2)) * 3,
                                  MemCategory::raster);
    lidar_depth_ = Buffer<float>(dev_, px, MemCategory::raster);
    v_alpha_ = Buffer<float>(dev_, px, MemCategory::raster);
    v_depth_ = Buffer<float>(dev_, px, MemCategory::raster);
  }
  formation_ = std::make_unique<ImageFormation>(dev_, fs_setup);

  const auto bg = background_of(cfg_);
  for (int i = 0; i < 3; ++i) raster_.background[i] = bg[i];
  raster_.antialias = cfg_.train.antialias;
}

void TrainingRun::load_initial_gaussians(SceneNode& node, const NodePlan& np) {
  GaussianModel& g = node.model();
  const bool boxed = street() && (node.kind() == NodeKind::rigid ||
                                  node.kind() == NodeKind::deformable ||
                                  node.kind() == NodeKind::skeleton);
  if (!boxed) {
    // At most the node's init_points (drivestudio: up to 800k LiDAR points) and its capacity.
    size_t most = g.capacity();
    if (const NodeConfig* nc = cfg_.find_node(node.name()); nc && street())
      most = std::min(most, size_t(std::max<int64_t>(nc->init_points, 1)));
    g.load_cloud(gaussians_from_points(data_.init_points, data_.init_colors, np.sh_degree, most,
                                       cfg_.train.seed));
    return;
  }
  if (node.kind() == NodeKind::skeleton) return;  // on its body template already
  // Box-framed nodes: per instance, tagged.
  std::vector<int32_t> tags;
  const BoxNodeData& box = node.kind() == NodeKind::rigid ? street_->rigid : street_->deformable;
  g.load_cloud(box_node_cloud(box, np.sh_degree, g.capacity(), cfg_.train.seed, tags), tags);
}

EvalExtras TrainingRun::eval_extras() {
  EvalExtras x;
  if (!street()) return x;
  x.frames = &street_->test_frame;
  x.formation = formation_.get();
  eval_regions_ = {{"vehicle", {}}, {"human", {}}};
  for (const StreetFrameMasks& m : street_->scene.test_masks) {
    eval_regions_[0].masks.push_back(m.dynamic_vehicle.empty() ? nullptr : &m.dynamic_vehicle);
    eval_regions_[1].masks.push_back(m.dynamic_human.empty() ? nullptr : &m.dynamic_human);
  }
  if (street_->scene.test_masks.size() == data_.test.size()) x.regions = &eval_regions_;
  return x;
}

nlohmann::json TrainingRun::trainer_state() const {
  return {{"budget", budget_->state()},
          {"loss_watch", watch_.state()},
          {"train_seconds", train_seconds_before_ +
                                std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                              t_start_).count()}};
}

std::vector<GaussianModel*> TrainingRun::models() {
  std::vector<GaussianModel*> m;
  for (auto& n : nodes_) m.push_back(&n->model());
  return m;
}

void TrainingRun::restore_checkpoint() {
  const std::string path = out_ + "/checkpoints/latest.ckpt";
  if (!fs::exists(path))
    throw IoError("--resume: no checkpoint at '" + path + "'",
                  "start without --resume, or point --out at the run to continue");
  const LoadedCheckpoint ck = load_checkpoint(path, models(), checkpoint_tensors());
  first_step_ = ck.step + 1;
  last_step_ = ck.step;
  const nlohmann::json& s = ck.trainer_state;
  budget_->restore(s);
  train_seconds_before_ = s.value("train_seconds", 0.0);
  if (s.contains("loss_watch")) watch_.restore(s["loss_watch"]);
  last_saved_step_ = ck.step;
  events_.push_back("resumed from step " + std::to_string(ck.step));
  log_info("resumed from '", path, "' at step ", ck.step, " with ", total_count(), " Gaussians");
}

// Bytes that do not depend on the per-view state: the nodes at capacity and the step buffers.
size_t TrainingRun::persistent_bytes() const {
  size_t bytes = target_.bytes() + v_rgb_.bytes() + render_set_->bytes() + loss_ws_.bytes() +
                 plan_.fixed.images * (images_->cached_on_device() ? 1 : 0) +
                 formation_->bytes() + sky_mask_.bytes() + target_small_.bytes() +
                 lidar_depth_.bytes() +
                 v_alpha_.bytes() + v_depth_.bytes();
  for (const auto& n : nodes_) bytes += n->allocated_bytes();
  return bytes;
}

size_t TrainingRun::total_count() const {
  size_t n = 0;
  for (const auto& node : nodes_) n += node->count();
  return n;
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

std::vector<CheckpointTensor> TrainingRun::checkpoint_tensors() {
  std::vector<CheckpointTensor> all;
  for (auto& n : nodes_)
    for (const NodeTensor& t : n->checkpoint_tensors()) all.push_back({t.name, t.buffer});
  for (const NodeTensor& t : formation_->checkpoint_tensors()) all.push_back({t.name, t.buffer});
  return all;
}

const SceneNode* TrainingRun::network_node() const {
  for (const auto& n : nodes_)
    if (n->network_status(0).present) return n.get();
  return nullptr;
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
  for (size_t i = 0; i < nodes_.size(); ++i) {
    slices.push_back(render_set_->slice(i, grads, fwd));
    nodes_[i]->backward(frame, slices[i]);
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
  const std::vector<float> lidar = view_lidar_depth(*street_, frame, cam);
  if (lidar.size() == px) {
    copy_bytes(dev_, lidar_depth_.data(), Device::cpu(), lidar.data(), px * sizeof(float));
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
  if (step > d.start && d.every > 0 && step % d.every == 0 && step < last)
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (step < densify_stop(i)) densify_node(i, step);
  // An opacity reset needs steps to recover from (graphdeco's 3k-step run would otherwise end
  // right after one, all opacities at 0.01): skip it with less than a third of an interval left.
  const bool periodic = d.opacity_reset_every > 0 && step % d.opacity_reset_every == 0;
  const bool at_start = cfg_.data.background == "white" && step == d.start && d.start > 0;
  if ((periodic || at_start) && step < d.stop && step + d.opacity_reset_every / 3 <= last) {
    for (auto& n : nodes_) n->reset_opacity();
    events_.push_back("opacity reset at step " + std::to_string(step));
  }
  for (size_t i = 0; i < nodes_.size(); ++i)
    budget_->node(i).peak_count = std::max(budget_->node(i).peak_count, nodes_[i]->count());
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

void TrainingRun::log_step(int step) {
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - t_log_).count();
  const double its = dt > 0 ? steps_since_log_ / dt : 0;
  t_log_ = now;
  steps_since_log_ = 0;

  // Memory: what the model predicted for this window against what was measured, then
  // calibrate the per-view bytes per Gaussian and re-plan the nodes' growth limits.
  const size_t total = total_count();
  const size_t persistent = persistent_bytes();
  const size_t predicted = budget_->predicted_peak(persistent, total);
  MemoryLogEntry e;
  e.step = step;
  std::vector<size_t> counts;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const NodeBudget& b = budget_->node(i);
    e.nodes.push_back({nodes_[i]->name(), nodes_[i]->count(), b.growth_limit, b.threshold_used});
    counts.push_back(nodes_[i]->count());
  }
  e.predicted_bytes = predicted;
  e.multiplier = total > 0 ? double(predicted) / (double(total) * 236.0) : 0;
  e.events = events_;
  events_.clear();
  if (const SceneNode* net = network_node()) {
    const NodeNetworkStatus ns = net->network_status(step);
    e.mlp = MlpMemoryStatus{ns.active, ns.chunk_rows, ns.activation_bytes, ns.state_bytes,
                            size_t(ns.per_gaussian_bytes), ns.recomputed_chunks};
  }
  const size_t measured = monitor_->log(e);
  for (std::string& ev : budget_->calibrate(measured, persistent,
                                             MemoryAccountant::of(dev_.kind).cap(), counts))
    events_.push_back(std::move(ev));

  nlohmann::ordered_json j;
  j["step"] = step;
  j["loss"] = last_loss_.loss;
  j["l1"] = last_loss_.l1;
  j["ssim"] = last_loss_.ssim;
  j["psnr"] = last_psnr_;
  if (street()) {
    j["sky_loss"] = last_sky_loss_;
    j["depth_loss"] = last_depth_loss_;
  }
  j["gaussians"] = total;
  j["visible"] = last_visible_;
  j["instances"] = last_instances_;
  j["it_per_s"] = its;
  j["elapsed_s"] = train_seconds_before_ + std::chrono::duration<double>(now - t_start_).count();
  train_log_->write(j);
}

// Held-out views mid-run (no images written): one train.jsonl line with the test metrics.
void TrainingRun::log_test(int step) {
  if (data_.test.empty()) return;
  const EvalResult ev = evaluate_views(*render_set_, data_.test, data_.test_images, raster_, "",
                                       last_step_, eval_extras());
  nlohmann::ordered_json j;
  j["step"] = step;
  j["test_psnr"] = ev.psnr;
  j["test_ssim"] = ev.ssim;
  j["test_views"] = ev.views;
  for (const EvalResult::Region& r : ev.regions)
    if (r.pixels > 0) j["test_" + r.name + "_psnr"] = r.psnr;
  j["gaussians"] = total_count();
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
  save_checkpoint(out_ + "/checkpoints/latest.ckpt", step, models(), trainer_state(),
                  checkpoint_tensors());
  last_saved_step_ = step;
  log_info("checkpoint saved at step ", step, " (", why, ")");
}

void TrainingRun::export_ply(int step) {
  const std::string dir = out_ + "/point_cloud/iteration_" + std::to_string(step);
  fs::create_directories(dir);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    // The first node keeps the INRIA layout's point_cloud.ply; the others are named after
    // themselves.
    const std::string own = i == 0 ? "point_cloud" : nodes_[i]->name();
    for (const NamedCloud& c : nodes_[i]->export_clouds(step)) {
      const std::string file =
          dir + "/" + (c.suffix.empty() ? own : i == 0 ? c.suffix : own + "_" + c.suffix) + ".ply";
      write_ply(file, c.cloud);
      if (!c.description.empty()) log_info(c.description, " written to ", file);
    }
  }
}

void TrainingRun::collect_trained_nodes() {
  node_cfgs_.clear();
  for (NodeKind kind : {NodeKind::background, NodeKind::deformable, NodeKind::rigid,
                        NodeKind::skeleton})
    for (const NodeConfig& n : cfg_.nodes)
      if (n.kind == kind) node_cfgs_.push_back(&n);
}

void TrainingRun::select_nodes() {
  if (cfg_.scene == SceneKind::omnire) {
    // Driving scenes: a background node and at most one node of each actor kind (rigid
    // vehicles, deformable instances, skinned humans), the sky.
    int counts[5] = {0, 0, 0, 0, 0};
    for (const NodeConfig& n : cfg_.nodes) {
      ++counts[int(n.kind)];
      if (n.kind == NodeKind::sky) sky_resolution_ = n.env_map_resolution;
    }
    if (counts[int(NodeKind::background)] != 1 || counts[int(NodeKind::rigid)] > 1 ||
        counts[int(NodeKind::deformable)] > 1 || counts[int(NodeKind::skeleton)] > 1)
      throw ConfigError("an omnire scene needs exactly one background node and at most one "
                        "rigid, one deformable and one skeleton node",
                        "see configs/omnire_12gb.yaml for the node layout");
    collect_trained_nodes();
    return;
  }
  // Static and deformable scenes train one Gaussian node: the background of a static scene, or
  // the deformable node of a deformable scene (a sky node is planned but not trained).
  const NodeKind trained = cfg_.scene == SceneKind::deformable ? NodeKind::deformable
                                                               : NodeKind::background;
  for (const NodeConfig& n : cfg_.nodes) {
    if (n.kind == trained && node_cfgs_.empty()) node_cfgs_.push_back(&n);
    else if (n.kind != NodeKind::sky)
      throw ConfigError("node '" + n.name + "' of kind " + to_string(n.kind) +
                            " is not trainable in a " + to_string(cfg_.scene) + " scene: it "
                            "trains one " + to_string(trained) + " node",
                        "remove the node from the config's nodes");
  }
  if (node_cfgs_.empty())
    throw ConfigError(std::string("a ") + to_string(cfg_.scene) + " scene needs a " +
                      to_string(trained) + " node");
}

TrainSummary TrainingRun::run() {
  select_nodes();
  dev_ = resolve_device(cfg_.device);
  shorten_embedded_street_run();
  setup_outputs();
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
  for (size_t i = 0; i < nodes_.size(); ++i)
    budget_->node(i).peak_count = std::max(budget_->node(i).peak_count, nodes_[i]->count());
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
    ps.gaussians = total_count();
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
  const EvalResult ev = evaluate_views(*render_set_, data_.test, data_.test_images, raster_,
                                       s.interrupted ? "" : out_ + "/test_renders", last_step_,
                                       eval_extras());
  s.test_psnr = ev.psnr;
  s.test_ssim = ev.ssim;
  s.test_views = ev.views;
  s.gaussians = total_count();
  s.peak_bytes = std::max(monitor_->run_peak_bytes(), MemoryAccountant::of(dev_.kind).peak_total());

  nlohmann::ordered_json m;
  m["test"] = {{"psnr", ev.psnr}, {"ssim", ev.ssim}, {"views", ev.views}};
  for (const EvalResult::Region& r : ev.regions) {
    // Each class's region (its dynamic masks) of the held-out views.
    if (r.pixels == 0) continue;
    m["test"][r.name + "_psnr"] = r.psnr;
    m["test"][r.name + "_pixels"] = r.pixels;
  }
  m["gaussians"] = s.gaussians;
  m["iterations"] = last_step;
  m["train_seconds"] = s.train_seconds;
  m["interrupted"] = s.interrupted;
  m["device"] = dev_.name();
  m["budget_bytes"] = s.budget_bytes;
  m["peak_bytes"] = s.peak_bytes;
  if (nodes_.size() == 1) {
    // One node: "node" (and "deform") at the top level, as before the scene graph.
    nlohmann::ordered_json node = nodes_[0]->metrics(last_step_);
    nlohmann::ordered_json deform;
    if (node.contains("deform")) {
      deform = node["deform"];
      node.erase("deform");
    }
    m["node"] = node;
    if (!deform.is_null()) m["deform"] = deform;
  } else {
    for (const auto& n : nodes_) {
      nlohmann::ordered_json j = n->metrics(last_step_);
      j["gaussians"] = n->count();
      m["nodes"].push_back(j);
    }
  }
  write_file_atomic(out_ + "/metrics.json", m.dump(2) + "\n");
  log_info("done: ", last_step, " steps in ", s.train_seconds, " s; test PSNR ", ev.psnr,
           " dB, SSIM ", ev.ssim, " over ", ev.views, " views; ", s.gaussians,
           " Gaussians; peak ", format_bytes(s.peak_bytes), " of budget ",
           format_bytes(s.budget_bytes));
}

}  // namespace

std::string default_scene_dir(const Config& config) {
  const char* kind = config.scene == SceneKind::deformable ? "dynamic"
                     : config.scene == SceneKind::omnire  ? "street"
                                                          : "static";
  return config.out_dir + "/generated_scene_" + kind;
}

TrainSummary run_training(const Config& config, const TrainerOptions& options) {
  TrainingRun run(config, options);
  return run.run();
}

}  // namespace gs
