// The training run's state and steps, internal to trainer/ (the public entry point is
// run_training in trainer.h). One TrainingRun object holds the state of a run; its methods
// follow the data flow of DESIGN.md §1: data → plan → model → steps → outputs, in three files:
//   training_setup.cpp  the nodes of the config, data, plan, nodes and their initial Gaussians
//   training_step.cpp   one step (render set → rasterizer → losses → backward → Adam),
//                       densification, out-of-memory recovery and the health checks
//   trainer.cpp         the run loop, logs, checkpoints, PLY exports and the summary
#pragma once

#include <array>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "budget/budget_controller.h"
#include "budget/budget_planner.h"
#include "budget/memory_monitor.h"
#include "config/config.h"
#include "core/errors.h"
#include "datasets/dataset.h"
#include "formats/checkpoint.h"
#include "optim/loss.h"
#include "optim/loss_watch.h"
#include "rasterizer/rasterize.h"
#include "scene/render_set.h"
#include "scene/rigid_node.h"
#include "scene/scene_node.h"
#include "scene/skeleton_node.h"
#include "trainer/evaluation.h"
#include "trainer/image_formation.h"
#include "trainer/progress.h"
#include "trainer/street_data.h"
#include "trainer/train_images.h"
#include "trainer/trainer.h"

namespace gs {

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
  // Whether the opacities are reset at `step` (periodic, or at the densify start on white).
  bool opacity_reset_at(int step) const;
  // Whether `step` falls in the pause after a reset (densify.pause_after_reset).
  bool paused_after_reset(int step) const;
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

  // First, so destroyed last: the stream-ordered pool (memory.allocator) outlives every buffer.
  std::unique_ptr<StreamPoolScope> pool_scope_;
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
  LidarDepthCache lidar_cache_;      // street scenes: the views' LiDAR depth, sparse on the host
  std::vector<float> lidar_host_;    // this step's dense LiDAR depth image, for the upload
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

}  // namespace gs
