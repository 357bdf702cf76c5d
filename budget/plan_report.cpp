// Printing a MemoryPlan: the human table of `gstrain --plan` and its --json object.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "budget/budget_planner.h"

#include "core/errors.h"

namespace gs {

namespace {
std::string mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f MiB", double(bytes) / (1024.0 * 1024.0));
  return buf;
}
std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}
std::string pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}
std::string lpad(std::string s, size_t w) {
  if (s.size() < w) s.insert(0, w - s.size(), ' ');
  return s;
}
}  // namespace

std::string format_plan_table(const MemoryPlan& p, const std::string& title) {
  std::string s;
  s += "memory plan: " + title + "\n";
  s += "  budget            " + format_bytes(p.budget_bytes) + " (" +
       fmt("%.2f", double(p.budget_bytes) / 1e9) + " GB), usable " + format_bytes(p.usable_bytes) +
       " after the safety margin\n";
  s += "  resolution        " + std::to_string(p.width) + "x" + std::to_string(p.height) +
       (p.resolution_assumed ? " (assumed: the config trains at native resolution)" : "") + "\n";
  s += "  images            " + std::string(p.images_on_device ? "cached on the device" : "streamed from host memory") + "\n";
  s += "  fixed costs       " + mib(p.fixed.total()) + ": context " + mib(p.fixed.context) +
       ", images " + mib(p.fixed.images) + ", per-pixel buffers " + mib(p.fixed.pixel_buffers) +
       ", MLP state " + mib(p.fixed.mlp_state) + ", MLP activations " + mib(p.fixed.mlp_activations) +
       ", sky " + mib(p.fixed.sky) + ", exposure " + mib(p.fixed.exposure) + "\n";
  if (p.mlp_chunk_gaussians > 0)
    s += "  MLP chunk         " + std::to_string(p.mlp_chunk_gaussians) +
         " Gaussians in flight (activation memory bounded by the chunk, not by N)\n";
  s += "\n  " + pad("node", 12) + pad("kind", 11) + lpad("SH", 3) + lpad("params B/G", 12) +
       lpad("all-in B/G", 12) + lpad("mult", 7) + lpad("max Gaussians", 15) + lpad("at cap", 12) +
       lpad("AbsGrad thr", 13) + "\n";
  for (const NodePlan& n : p.nodes) {
    const bool g = n.kind != NodeKind::sky;
    s += "  " + pad(n.name, 12) + pad(to_string(n.kind), 11) +
         lpad(g ? std::to_string(n.sh_degree) : "-", 3) +
         lpad(g ? std::to_string(n.cost.params) : "-", 12) +
         lpad(g ? std::to_string(n.cost.total()) : "-", 12) +
         lpad(g ? fmt("%.2f", n.cost.multiplier()) : "-", 7) +
         lpad(g ? std::to_string(n.max_gaussians) + (n.capped_by_user ? "*" : "") : "-", 15) +
         lpad(mib(n.bytes_at_cap()), 12) + lpad(g ? fmt("%.6g", n.grad_threshold) : "-", 13) + "\n";
  }
  s += "\n  total Gaussians   " + std::to_string(p.total_gaussians()) + "\n";
  s += "  predicted peak    " + format_bytes(p.predicted_peak_bytes) + " (" +
       fmt("%.1f", 100.0 * double(p.predicted_peak_bytes) / double(std::max<size_t>(p.budget_bytes, 1))) +
       "% of the budget)\n";
  s += "  multiplier        " + fmt("%.2f", p.multiplier) +
       "  (VRAM = Gaussians x 236 B x multiplier + network)\n";
  if (p.degrade.empty()) {
    s += "  degrade steps     none\n";
  } else {
    s += "  degrade steps:\n";
    for (const std::string& d : p.degrade) s += "    - " + d + "\n";
  }
  if (!p.fits) s += "\nDOES NOT FIT: " + p.refusal + "\n";
  return s;
}

std::string format_plan_json(const MemoryPlan& p) {
  nlohmann::ordered_json j;
  j["fits"] = p.fits;
  if (!p.fits) j["refusal"] = p.refusal;
  j["budget_bytes"] = p.budget_bytes;
  j["usable_bytes"] = p.usable_bytes;
  j["predicted_peak_bytes"] = p.predicted_peak_bytes;
  j["multiplier"] = p.multiplier;
  j["total_gaussians"] = p.total_gaussians();
  j["resolution"] = {{"width", p.width}, {"height", p.height}, {"assumed", p.resolution_assumed}};
  j["images_on_device"] = p.images_on_device;
  j["mlp_chunk_gaussians"] = p.mlp_chunk_gaussians;
  j["fixed_bytes"] = {{"context", p.fixed.context},         {"images", p.fixed.images},
                      {"pixel_buffers", p.fixed.pixel_buffers}, {"mlp_state", p.fixed.mlp_state},
                      {"mlp_activations", p.fixed.mlp_activations}, {"sky", p.fixed.sky}, {"exposure", p.fixed.exposure},
                      {"total", p.fixed.total()}};
  j["degrade"] = p.degrade;
  nlohmann::ordered_json nodes = nlohmann::ordered_json::object();
  for (const NodePlan& n : p.nodes) {
    nlohmann::ordered_json o;
    o["kind"] = to_string(n.kind);
    o["priority"] = n.priority;
    o["share"] = n.share;
    o["configured_sh_degree"] = n.configured_sh_degree;
    o["sh_degree"] = n.sh_degree;
    o["param_bytes_per_gaussian"] = n.kind == NodeKind::sky ? 0 : n.cost.params;
    o["bytes_per_gaussian"] = n.kind == NodeKind::sky ? 0 : n.cost.total();
    o["multiplier"] = n.kind == NodeKind::sky ? 0.0 : n.cost.multiplier();
    o["bytes_per_gaussian_by_part"] = {
        {"params", n.cost.params},       {"grads", n.cost.grads},
        {"optimizer", n.cost.optimizer}, {"densify", n.cost.densify},
        {"render_set", n.cost.render_set}, {"raster", n.cost.raster},
        {"tile_instances", n.cost.tile_instances}, {"node_transform", n.cost.node_transform}};
    o["init_points"] = n.init_points;
    o["max_gaussians"] = n.max_gaussians;
    o["capped_by_user"] = n.capped_by_user;
    o["grad_threshold"] = n.grad_threshold;
    o["fixed_bytes"] = n.fixed_bytes;
    o["bytes_at_cap"] = n.bytes_at_cap();
    nodes[n.name] = o;
  }
  j["nodes"] = nodes;
  return j.dump(2);
}

}  // namespace gs
