// The budget controller's planning step (DESIGN.md §4, "Plan" and "Degrade"): from the budget
// and the memory model, how many Gaussians each scene node may hold, at which SH degree, where
// images live and how big an MLP chunk is — degrading in a fixed, logged order when the
// configuration does not fit, and refusing (with what to change) when even the floor does not.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/errors.h"
#include "config/config.h"
#include "budget/memory_model.h"

namespace gs {

// The configuration cannot fit the budget even at the bottom of the degrade ladder
// (gstrain exits with code 3).
class PlanDoesNotFit : public Error {
 public:
  using Error::Error;
};

// What the planner needs to know; built from a Config (and, once data is loaded, from the
// real image size and count).
struct PlanInputs {
  SceneKind scene = SceneKind::static_scene;
  size_t budget_bytes = 0;
  double safety_margin = 0.1;
  size_t context_bytes = 0;       // CUDA context + workspaces; 0 when planning for the CPU
  int width = 0, height = 0;      // training resolution
  bool resolution_assumed = false;  // the config left it native and the plan assumed one
  int images = 0;                 // training images (frames × cameras)
  std::string image_cache = "auto";
  DeformConfig deform;
  std::vector<NodeConfig> nodes;
};

// Resolution assumed for planning when the config says "native" and no data is loaded.
constexpr int kAssumedWidth = 1600, kAssumedHeight = 1200;

PlanInputs plan_inputs_from_config(const Config& config, bool plan_for_gpu);

struct NodePlan {
  std::string name;
  NodeKind kind = NodeKind::background;
  int priority = 0;
  double share = 0;               // normalised over the nodes that hold Gaussians
  int configured_sh_degree = 0;
  int sh_degree = 0;              // after degrading
  GaussianCost cost;              // bytes per Gaussian, by part
  int64_t init_points = 0;
  int64_t max_gaussians = 0;      // 0 for nodes without Gaussians (sky)
  bool capped_by_user = false;
  double grad_threshold = 0;      // base AbsGrad threshold
  size_t fixed_bytes = 0;         // node-specific fixed cost (sky env map)
  size_t bytes_at_cap() const { return size_t(max_gaussians) * cost.total() + fixed_bytes; }
};

struct FixedCosts {
  size_t context = 0;
  size_t images = 0;
  size_t pixel_buffers = 0;
  size_t mlp_state = 0;           // weights, gradients, Adam moments
  size_t mlp_activations = 0;     // one chunk in flight
  size_t sky = 0;
  size_t exposure = 0;            // street scenes: a 3×4 affine per training image + Adam
  size_t total() const {
    return context + images + pixel_buffers + mlp_state + mlp_activations + sky + exposure;
  }
};

struct MemoryPlan {
  bool fits = false;
  std::string refusal;            // why not, and what to change (when !fits)
  size_t budget_bytes = 0;
  size_t usable_bytes = 0;        // budget less the safety margin
  size_t predicted_peak_bytes = 0;
  double multiplier = 0;          // (peak − network) ÷ (Gaussians × 236 B)
  int width = 0, height = 0;      // after degrading
  bool resolution_assumed = false;
  bool images_on_device = false;
  int64_t mlp_chunk_gaussians = 0;  // 0 without a deformation MLP
  FixedCosts fixed;
  std::vector<NodePlan> nodes;
  std::vector<std::string> degrade;  // steps taken, in order

  int64_t total_gaussians() const;
  const NodePlan* find(const std::string& name) const;
};

MemoryPlan plan_memory(const PlanInputs& inputs, const MemoryModel& model);

// Human-readable table and the --json object (keys documented in docs/memory_model.md).
std::string format_plan_table(const MemoryPlan& plan, const std::string& title);
std::string format_plan_json(const MemoryPlan& plan);

}  // namespace gs
