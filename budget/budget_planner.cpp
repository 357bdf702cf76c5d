// Memory planning with the degrade ladder (see budget_planner.h).
#include "budget/budget_planner.h"

#include "deform/linalg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/errors.h"
#include "deform/linalg.h"

namespace gs {

namespace {

constexpr double kBytesPerGB = 1e9;
// Images are cached on the device in "auto" mode only when they take at most this share of
// the usable budget. Streaming a view costs one host-to-device copy per step (~0.1 ms for
// 800x800), so caching is worth little; a small share also keeps small the band of budgets
// just below the switch where caps are held flat to stay monotone (streamed_space_ceiling).
constexpr double kImageCacheShare = 0.02;
// In-flight MLP activations get at most this share of the usable budget (and at most the
// model's cap), which sets the chunk size.
constexpr double kMlpActivationShare = 0.05;
// The resolution ladder stops when the shorter side would drop below this.
constexpr int kMinResolutionSide = 64;
// A node may be capped below its initial points down to this floor (points get subsampled).
constexpr int64_t kMinGaussiansPerNode = 1000;
constexpr double kMinInitFraction = 0.10;

bool holds_gaussians(NodeKind kind) { return kind != NodeKind::sky; }

int64_t floor_gaussians(const NodePlan& n) {
  return std::max<int64_t>(kMinGaussiansPerNode, int64_t(kMinInitFraction * double(n.init_points)));
}

// The ladder's mutable state.
struct LadderState {
  std::vector<int> sh;            // per node
  int width = 0, height = 0;
  bool images_on_device = false;
  bool accept_below_init = false; // the Gaussian-cap step has been taken
  // In "auto" image-cache mode with images streamed because they are too big to cache: the
  // Gaussian space the plan would get at the smallest budget that caches them. Capping the
  // streamed plan there keeps max_gaussians monotone in the budget (without it, crossing that
  // budget would trade Gaussians for cached images). Infinity when it does not apply.
  double streamed_space_ceiling = HUGE_VAL;
};

// Fills plan sizes for one ladder state. Returns the bytes left for Gaussians (may be < 0).
double evaluate(const PlanInputs& in, const MemoryModel& model, const LadderState& st,
                MemoryPlan& plan) {
  plan.width = st.width;
  plan.height = st.height;
  plan.images_on_device = st.images_on_device;
  plan.fixed = FixedCosts{};
  plan.fixed.context = in.context_bytes;
  plan.fixed.images = model.image_bytes(st.width, st.height, in.images, st.images_on_device);
  plan.fixed.pixel_buffers = model.pixel_buffer_bytes(st.width, st.height);
  if (in.scene == SceneKind::omnire)
    plan.fixed.exposure = MemoryModel::exposure_bytes(in.images);

  const bool has_deformable =
      std::any_of(in.nodes.begin(), in.nodes.end(),
                  [](const NodeConfig& n) { return n.kind == NodeKind::deformable; });
  plan.mlp_chunk_gaussians = 0;
  if (has_deformable) {
    const MlpShape mlp =
        MemoryModel::deformation_mlp(in.deform, in.scene == SceneKind::omnire);
    const size_t act_budget = std::min(model.params().mlp_activation_budget_bytes,
                                       size_t(kMlpActivationShare * double(plan.usable_bytes)));
    plan.mlp_chunk_gaussians = in.deform.chunk_size > 0
                                   ? in.deform.chunk_size
                                   : MemoryModel::mlp_chunk_size(mlp, act_budget);
    // On a GPU, plus the cuBLAS workspace and reduction scratch (deform/linalg.h).
    plan.fixed.mlp_state = mlp.state_bytes() + (in.context_bytes > 0 ? kLinalgCudaContextBytes : 0);
    plan.fixed.mlp_activations =
        size_t(plan.mlp_chunk_gaussians) * mlp.activation_bytes_per_gaussian();
  }

  double share_sum = 0;
  for (const NodeConfig& n : in.nodes)
    if (holds_gaussians(n.kind)) share_sum += n.share;

  plan.nodes.clear();
  for (size_t i = 0; i < in.nodes.size(); ++i) {
    const NodeConfig& c = in.nodes[i];
    NodePlan n;
    n.name = c.name;
    n.kind = c.kind;
    n.priority = c.priority;
    n.configured_sh_degree = c.sh_degree;
    n.sh_degree = st.sh[i];
    n.init_points = holds_gaussians(c.kind) ? c.init_points : 0;
    n.grad_threshold = c.grad_threshold;
    if (holds_gaussians(c.kind)) {
      n.share = share_sum > 0 ? c.share / share_sum : 0;
      n.cost = model.gaussian_cost(c.kind, n.sh_degree, in.scene == SceneKind::omnire);
    } else {
      n.sh_degree = 0;
      n.fixed_bytes = MemoryModel::sky_bytes(c.env_map_resolution);
      plan.fixed.sky += n.fixed_bytes;
    }
    plan.nodes.push_back(n);
  }

  double available = double(plan.usable_bytes) - double(plan.fixed.total());
  if (!st.images_on_device) available = std::min(available, st.streamed_space_ceiling);
  // Skeleton nodes never grow (never densified): they take what their initial Gaussians need,
  // up to their share, and the rest of their share goes to the nodes that grow.
  double fixed_nodes = 0, growing_share = 0;
  for (NodePlan& n : plan.nodes) {
    if (!holds_gaussians(n.kind)) continue;
    if (n.kind != NodeKind::skeleton) {
      growing_share += n.share;
      continue;
    }
    const double bytes = std::max(available, 0.0) * n.share;
    n.max_gaussians = std::min(int64_t(std::floor(bytes / double(n.cost.total()))),
                               std::max<int64_t>(n.init_points, 1));
    fixed_nodes += double(n.max_gaussians) * double(n.cost.total());
  }
  const double for_growing = std::max(available - fixed_nodes, 0.0);
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    NodePlan& n = plan.nodes[i];
    if (!holds_gaussians(n.kind)) continue;
    if (n.kind != NodeKind::skeleton) {
      const double bytes = growing_share > 0 ? for_growing * n.share / growing_share : 0.0;
      n.max_gaussians = int64_t(std::floor(bytes / double(n.cost.total())));
    }
    const int64_t user_cap = in.nodes[i].max_gaussians;
    if (user_cap > 0 && user_cap < n.max_gaussians) {
      n.max_gaussians = user_cap;
      n.capped_by_user = true;
    }
  }
  return available;
}

// True when every Gaussian node holds what this ladder state requires of it.
bool nodes_fit(const MemoryPlan& plan, const LadderState& st, double available) {
  if (available <= 0) return false;
  for (const NodePlan& n : plan.nodes) {
    if (!holds_gaussians(n.kind)) continue;
    // A user cap (below what the budget allows) is the user's choice, not a failure to fit.
    if (n.capped_by_user) continue;
    const int64_t need = st.accept_below_init ? floor_gaussians(n)
                                              : std::max(n.init_points, floor_gaussians(n));
    if (n.max_gaussians < need) return false;
  }
  return true;
}

std::string res(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

// Lowers the SH degree of the lowest-priority nodes that still have SH above 0, never touching
// the highest-priority level. Returns false when there is nothing left to lower.
bool lower_sh_step(const PlanInputs& in, LadderState& st, std::vector<std::string>& log) {
  int top = -1000000;
  for (const NodeConfig& n : in.nodes)
    if (holds_gaussians(n.kind)) top = std::max(top, n.priority);
  int lowest = 1000000;
  for (size_t i = 0; i < in.nodes.size(); ++i)
    if (holds_gaussians(in.nodes[i].kind) && in.nodes[i].priority < top && st.sh[i] > 0)
      lowest = std::min(lowest, in.nodes[i].priority);
  if (lowest == 1000000) return false;
  for (size_t i = 0; i < in.nodes.size(); ++i) {
    if (!holds_gaussians(in.nodes[i].kind) || in.nodes[i].priority != lowest || st.sh[i] == 0)
      continue;
    log.push_back("lower SH degree of node '" + in.nodes[i].name + "' (priority " +
                  std::to_string(lowest) + "): " + std::to_string(st.sh[i]) + " -> " +
                  std::to_string(st.sh[i] - 1));
    --st.sh[i];
  }
  return true;
}

bool lower_resolution_step(LadderState& st, std::vector<std::string>& log) {
  if (std::min(st.width, st.height) / 2 < kMinResolutionSide) return false;
  const int w = st.width / 2, h = st.height / 2;
  log.push_back("lower training resolution: " + res(st.width, st.height) + " -> " + res(w, h));
  st.width = w;
  st.height = h;
  return true;
}

std::string gb(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", double(bytes) / kBytesPerGB);
  return buf;
}

std::string refusal_text(const PlanInputs& in, const MemoryPlan& plan) {
  // The least budget that would fit at the bottom of the ladder.
  size_t need = plan.fixed.total();
  for (const NodePlan& n : plan.nodes)
    if (holds_gaussians(n.kind)) need += size_t(floor_gaussians(n)) * n.cost.total();
  const size_t min_budget = size_t(std::ceil(double(need) / (1.0 - in.safety_margin)));
  std::string s = "the configuration cannot fit in memory.budget_gb=" + gb(in.budget_bytes) +
                  " GB (" + format_bytes(plan.usable_bytes) + " usable after the " +
                  std::to_string(int(std::lround(in.safety_margin * 100))) +
                  "% safety margin), even after degrading SH, resolution and Gaussian caps.\n";
  s += "  fixed costs: " + format_bytes(plan.fixed.total()) + " (context " +
       format_bytes(plan.fixed.context) + ", per-pixel buffers at " + res(plan.width, plan.height) +
       " " + format_bytes(plan.fixed.pixel_buffers) + ", images " +
       format_bytes(plan.fixed.images) + ", MLP " +
       format_bytes(plan.fixed.mlp_state + plan.fixed.mlp_activations) + ", sky " +
       format_bytes(plan.fixed.sky) + ")\n";
  s += "  minimum Gaussians: " + std::to_string(kMinGaussiansPerNode) +
       " per node (or 10% of its init_points)\n";
  s += "  what to change: raise memory.budget_gb to at least " + gb(min_budget) +
       " GB, or lower data.width/data.height, nodes.<sky>.env_map_resolution, "
       "nodes.<name>.init_points, or memory.safety_margin";
  return s;
}

}  // namespace

PlanInputs plan_inputs_from_config(const Config& config, bool plan_for_gpu) {
  PlanInputs in;
  in.scene = config.scene;
  in.budget_bytes = size_t(config.memory.budget_gb * kBytesPerGB);
  in.safety_margin = config.memory.safety_margin;
  in.context_bytes = plan_for_gpu ? size_t(config.memory.context_gb * kBytesPerGB) : 0;
  in.width = config.data.width;
  in.height = config.data.height;
  if (in.width <= 0 || in.height <= 0) {
    in.width = kAssumedWidth;
    in.height = kAssumedHeight;
    in.resolution_assumed = true;
  }
  in.images = config.data.frames * std::max(config.data.cameras, 1);
  in.image_cache = config.data.image_cache;
  in.deform = config.deform;
  in.nodes = config.nodes;
  return in;
}

int64_t MemoryPlan::total_gaussians() const {
  int64_t n = 0;
  for (const NodePlan& p : nodes) n += p.max_gaussians;
  return n;
}

const NodePlan* MemoryPlan::find(const std::string& name) const {
  for (const NodePlan& p : nodes)
    if (p.name == name) return &p;
  return nullptr;
}

MemoryPlan plan_memory(const PlanInputs& in, const MemoryModel& model) {
  MemoryPlan plan;
  plan.budget_bytes = in.budget_bytes;
  plan.usable_bytes = size_t(double(in.budget_bytes) * (1.0 - in.safety_margin));
  plan.resolution_assumed = in.resolution_assumed;

  LadderState st;
  for (const NodeConfig& n : in.nodes) st.sh.push_back(n.sh_degree);
  st.width = in.width;
  st.height = in.height;
  const size_t cached_images = model.image_bytes(in.width, in.height, in.images, true);
  st.images_on_device =
      in.image_cache == "device" ||
      (in.image_cache == "auto" && double(cached_images) <= kImageCacheShare * double(plan.usable_bytes));
  if (in.image_cache == "auto" && !st.images_on_device) {
    // Space for Gaussians at the smallest budget whose plan caches the images.
    MemoryPlan at_switch;
    at_switch.usable_bytes = size_t(std::ceil(double(cached_images) / kImageCacheShare));
    LadderState cached = st;
    cached.images_on_device = true;
    st.streamed_space_ceiling = evaluate(in, model, cached, at_switch);
  }

  // The ladder, cheapest quality loss first: stream images from the host, lower SH of
  // low-priority nodes, start nodes with fewer Gaussians than their initial points (down to a
  // floor; densification grows them back up to the cap), then lower the resolution.
  for (;;) {
    const double available = evaluate(in, model, st, plan);
    if (nodes_fit(plan, st, available)) {
      plan.fits = true;
      break;
    }
    if (st.images_on_device) {
      st.images_on_device = false;
      plan.degrade.push_back("stream images from host memory instead of caching them on the device");
      continue;
    }
    if (lower_sh_step(in, st, plan.degrade)) continue;
    if (!st.accept_below_init) {
      st.accept_below_init = true;  // the per-node caps are logged once the plan fits
      continue;
    }
    if (lower_resolution_step(st, plan.degrade)) continue;
    plan.fits = false;
    plan.refusal = refusal_text(in, plan);
    break;
  }
  if (plan.fits && st.accept_below_init)
    for (const NodePlan& n : plan.nodes)
      if (holds_gaussians(n.kind) && n.max_gaussians < n.init_points)
        plan.degrade.push_back("cap node '" + n.name + "' at " + std::to_string(n.max_gaussians) +
                               " Gaussians, below its " + std::to_string(n.init_points) +
                               " initial points (they will be subsampled)");

  size_t gaussian_bytes = 0;
  for (const NodePlan& n : plan.nodes) gaussian_bytes += size_t(n.max_gaussians) * n.cost.total();
  plan.predicted_peak_bytes = plan.fixed.total() + gaussian_bytes;
  const int64_t total = plan.total_gaussians();
  const size_t network = plan.fixed.mlp_state + plan.fixed.mlp_activations;
  plan.multiplier = total > 0 ? double(plan.predicted_peak_bytes - network) /
                                    (double(total) * double(kReferenceGaussianBytes))
                              : 0.0;
  return plan;
}

}  // namespace gs
