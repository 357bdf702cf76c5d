// The budget controller (DESIGN.md §4, steps 3–5): per node, how far densification may grow
// (its growth limit, at most its planned capacity), the densification threshold in use, the
// node's peak count (the prune floor's base); across nodes, the calibrated per-view bytes per
// Gaussian and out-of-memory recovery (prune the lowest-priority node first).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scene/scene_node.h"

namespace gs {

struct NodeBudget {
  std::string name;
  int priority = 0;
  size_t capacity = 0;        // allocated rows
  size_t growth_limit = 0;    // densification grows up to here (≤ capacity)
  double threshold_used = 0;  // the last densification's threshold (raised when the cap binds)
  size_t peak_count = 0;      // the node's largest count in the run
};

class BudgetController {
 public:
  // `transient_per_gaussian`: the plan's per-view bytes per Gaussian, until calibrated.
  BudgetController(const std::vector<SceneNode*>& nodes, const std::vector<double>& thresholds,
                   double transient_per_gaussian);

  NodeBudget& node(size_t i) { return nodes_.at(i); }
  const NodeBudget& node(size_t i) const { return nodes_.at(i); }
  size_t size() const { return nodes_.size(); }
  double transient_per_gaussian() const { return transient_per_gaussian_; }

  // The accounted peak the model predicts for a step with `gaussians` in the render set.
  size_t predicted_peak(size_t persistent_bytes, size_t gaussians) const;

  // After a logged window: the measured peak against the persistent bytes calibrates the
  // per-view bytes per Gaussian, and each node's growth limit is re-planned to what fits under
  // `cap` (0: no cap). Returns the events ("re-plan: …").
  std::vector<std::string> calibrate(size_t measured_peak, size_t persistent_bytes, size_t cap,
                                     const std::vector<size_t>& counts);

  // Recovery from a refused allocation: the non-empty node of the lowest priority loses
  // `fraction` of its least opaque Gaussians and its growth limit drops to what it now holds.
  // Returns the event text.
  std::string recover_from_oom(const std::vector<SceneNode*>& nodes, int step,
                               const std::string& error, double fraction);

  // Checkpointed state. restore() also reads the keys of single-node checkpoints written
  // before the scene graph (capacity_limit, threshold_used, peak_count at the top level).
  nlohmann::json state() const;
  void restore(const nlohmann::json& trainer_state);

 private:
  std::vector<NodeBudget> nodes_;
  double transient_per_gaussian_ = 0;
};

}  // namespace gs
