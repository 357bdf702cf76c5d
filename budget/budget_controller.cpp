// The budget controller (see budget_controller.h).
#include "budget/budget_controller.h"

#include <algorithm>

#include "core/errors.h"

namespace gs {

BudgetController::BudgetController(const std::vector<SceneNode*>& nodes,
                                   const std::vector<double>& thresholds,
                                   double transient_per_gaussian)
    : transient_per_gaussian_(transient_per_gaussian) {
  GS_CHECK(nodes.size() == thresholds.size(), "one threshold per node");
  for (size_t i = 0; i < nodes.size(); ++i) {
    NodeBudget b;
    b.name = nodes[i]->name();
    b.priority = nodes[i]->priority();
    b.capacity = nodes[i]->model().capacity();
    b.growth_limit = b.capacity;
    b.threshold_used = thresholds[i];
    b.peak_count = nodes[i]->count();
    nodes_.push_back(b);
  }
}

size_t BudgetController::predicted_peak(size_t persistent_bytes, size_t gaussians) const {
  return persistent_bytes + size_t(transient_per_gaussian_ * double(gaussians));
}

std::vector<std::string> BudgetController::calibrate(size_t measured, size_t persistent,
                                                     size_t cap,
                                                     const std::vector<size_t>& counts) {
  std::vector<std::string> events;
  size_t total = 0;
  for (size_t c : counts) total += c;
  if (total == 0 || measured <= persistent) return events;
  // The last window is the best predictor of the next.
  const double per = double(measured - persistent) / double(total);
  transient_per_gaussian_ = per;
  if (cap == 0 || cap <= persistent) return events;
  // What fits in total, shared out as room above today's counts in proportion to capacity.
  const size_t fits = size_t(double(cap - persistent) / per);
  const double room = fits > total ? double(fits - total) : -double(total - fits);
  size_t capacity_sum = 0;
  for (const NodeBudget& b : nodes_) capacity_sum += b.capacity;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    NodeBudget& b = nodes_[i];
    const double share = capacity_sum > 0 ? double(b.capacity) / double(capacity_sum) : 0;
    const double want = double(counts[i]) + room * share;
    // At least 1: densify reads a limit of 0 as "no limit" (DensifySettings::capacity_limit),
    // and a node squeezed below zero by the shared shortfall must stop growing, not grow to
    // its capacity.
    const size_t limit = std::min(b.capacity, std::max<size_t>(1, size_t(std::max(0.0, want))));
    if (limit != b.growth_limit) {
      events.push_back("re-plan: node '" + b.name + "' growth limit " +
                       std::to_string(b.growth_limit) + " -> " + std::to_string(limit) +
                       " (calibrated " + std::to_string(int(per)) + " B/Gaussian per view)");
      b.growth_limit = limit;
    }
  }
  return events;
}

std::string BudgetController::recover_from_oom(const std::vector<SceneNode*>& nodes, int step,
                                               const std::string& error, double fraction) {
  // The lowest priority first; among equals, the largest node (it frees the most).
  size_t pick = nodes.size();
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i]->count() == 0) continue;
    if (pick == nodes.size() || nodes_[i].priority < nodes_[pick].priority ||
        (nodes_[i].priority == nodes_[pick].priority && nodes[i]->count() > nodes[pick]->count()))
      pick = i;
  }
  if (pick == nodes.size()) throw OutOfMemoryError(error, "every node is empty");
  const size_t removed = nodes[pick]->prune_lowest(fraction);
  NodeBudget& b = nodes_[pick];
  b.growth_limit = std::min(b.growth_limit, nodes[pick]->count());
  return "recovered OOM at step " + std::to_string(step) + " (" + error + "): pruned " +
         std::to_string(removed) + " Gaussians" +
         (nodes.size() > 1 ? " of node '" + b.name + "'" : std::string()) + ", cap now " +
         std::to_string(b.growth_limit);
}

nlohmann::json BudgetController::state() const {
  nlohmann::json j;
  j["transient_per_gaussian"] = transient_per_gaussian_;
  for (const NodeBudget& b : nodes_)
    j["nodes"][b.name] = {{"growth_limit", b.growth_limit},
                          {"threshold_used", b.threshold_used},
                          {"peak_count", b.peak_count}};
  return j;
}

void BudgetController::restore(const nlohmann::json& s) {
  if (s.contains("budget")) {
    const nlohmann::json& j = s["budget"];
    transient_per_gaussian_ = j.value("transient_per_gaussian", transient_per_gaussian_);
    for (NodeBudget& b : nodes_) {
      if (!j.contains("nodes") || !j["nodes"].contains(b.name)) continue;
      const nlohmann::json& n = j["nodes"][b.name];
      b.growth_limit = n.value("growth_limit", b.growth_limit);
      b.threshold_used = n.value("threshold_used", b.threshold_used);
      b.peak_count = n.value("peak_count", b.peak_count);
    }
    return;
  }
  // A single-node checkpoint from before the scene graph.
  transient_per_gaussian_ = s.value("transient_per_gaussian", transient_per_gaussian_);
  if (nodes_.size() == 1) {
    NodeBudget& b = nodes_[0];
    b.growth_limit = s.value("capacity_limit", b.growth_limit);
    b.threshold_used = s.value("threshold_used", b.threshold_used);
    b.peak_count = s.value("peak_count", b.peak_count);
  }
}

}  // namespace gs
