// Setting a run up (see training_run.h): which nodes, the data, the plan, the nodes and
// their initial Gaussians.
#include "trainer/training_run.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/logging.h"
#include "core/memory_accounting.h"
#include "datasets/scene_generator.h"
#include "datasets/street_generator.h"
#include "scene/gaussian_node.h"
#include "scene/init_gaussians.h"
#include "trainer/street_data.h"
#include "trainer/street_nodes.h"

namespace gs {

namespace fs = std::filesystem;

namespace {

std::array<float, 3> background_of(const Config& c) {
  return c.data.background == "black" ? std::array<float, 3>{0, 0, 0}
                                      : std::array<float, 3>{1, 1, 1};
}

}  // namespace

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

void TrainingRun::collect_trained_nodes() {
  node_cfgs_.clear();
  for (NodeKind kind : {NodeKind::background, NodeKind::deformable, NodeKind::rigid,
                        NodeKind::skeleton})
    for (const NodeConfig& n : cfg_.nodes)
      if (n.kind == kind) node_cfgs_.push_back(&n);
}

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
           "most ", kEmbeddedBackgroundPoints, " LiDAR points and no random ones, with a ",
           kEmbeddedSkyResolution, "² sky, deformation from step 600");
  cfg_.train.iterations = kEmbeddedStreetCpuSteps;
  cfg_.train.test_every = std::min(cfg_.train.test_every, kEmbeddedStreetCpuSteps / 4);
  // The deformable node switches on at the same fraction of the run as OmniRe's 3k of 30k, but
  // not before the full resolution (step 500).
  cfg_.deform.warmup_steps = std::min(cfg_.deform.warmup_steps, 600);
  for (NodeConfig& n : cfg_.nodes) {
    if (n.kind == NodeKind::background) {
      n.init_points = std::min(n.init_points, kEmbeddedBackgroundPoints);
      // drivestudio's random points stand in for what a real LiDAR does not reach (beyond its
      // range, above its beams); the generated scene's LiDAR reaches every surface in view, so
      // they only add floaters there (measured at 2000 steps: test PSNR 28.79 dB with them
      // scaled to this size, 29.74 without; docs/benchmarks.md).
      n.near_random_points = 0;
      n.far_random_points = 0;
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

}  // namespace gs
