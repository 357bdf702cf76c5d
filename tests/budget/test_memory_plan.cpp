// The memory model and the planner: bytes per SH degree, budget respected, monotone in the
// budget, the degrade ladder's order, user caps, bounded MLP chunks, and the refusal.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "budget/budget_planner.h"

using namespace gs;

namespace {

NodeConfig node(const std::string& name, NodeKind kind, int sh, int priority, double share,
                int64_t init = 10000) {
  NodeConfig n;
  n.name = name;
  n.kind = kind;
  n.sh_degree = sh;
  n.priority = priority;
  n.share = share;
  n.init_points = init;
  return n;
}

PlanInputs street_inputs(double budget_gb) {
  PlanInputs in;
  in.scene = SceneKind::omnire;
  in.budget_bytes = size_t(budget_gb * 1e9);
  in.safety_margin = 0.1;
  in.context_bytes = 500000000;
  in.width = 960;
  in.height = 640;
  in.images = 3 * 150;
  in.nodes = {node("background", NodeKind::background, 3, 3, 0.7, 600000),
              node("rigid", NodeKind::rigid, 3, 2, 0.15, 50000),
              node("deformable", NodeKind::deformable, 3, 1, 0.05, 20000),
              node("smpl", NodeKind::skeleton, 1, 1, 0.1, 20000),
              node("sky", NodeKind::sky, 0, 0, 0.0, 0)};
  return in;
}

}  // namespace

TEST_CASE("parameter bytes per Gaussian by SH degree", "[plan]") {
  CHECK(param_bytes_per_gaussian(0) == 56);
  CHECK(param_bytes_per_gaussian(1) == 92);
  CHECK(param_bytes_per_gaussian(2) == 152);
  CHECK(param_bytes_per_gaussian(3) == 236);
  MemoryModel model;
  for (int d = 0; d < 3; ++d)
    CHECK(model.gaussian_cost(NodeKind::background, d).total() <
          model.gaussian_cost(NodeKind::background, d + 1).total());
  const GaussianCost c = model.gaussian_cost(NodeKind::background, 3);
  // Parameters, gradients and two Adam moments are four copies of P(d).
  CHECK(c.params + c.grads + c.optimizer == 4 * 236);
  CHECK(c.multiplier() == Approx(double(c.total()) / 236.0));
  CHECK(c.multiplier() > 4.0);
  CHECK(c.multiplier() < 10.0);
  // Node kinds that move their Gaussians pay for it.
  CHECK(model.gaussian_cost(NodeKind::rigid, 3).total() > c.total());
  CHECK(model.gaussian_cost(NodeKind::skeleton, 3).total() > c.total());
}

TEST_CASE("the plan never predicts more than the budget", "[plan]") {
  MemoryModel model;
  for (double gb : {1.0, 4.0, 8.0, 12.0, 16.0, 24.0, 80.0}) {
    const MemoryPlan p = plan_memory(street_inputs(gb), model);
    INFO("budget " << gb << " GB");
    REQUIRE(p.fits);
    CHECK(p.predicted_peak_bytes <= p.usable_bytes);
    CHECK(p.usable_bytes <= p.budget_bytes);
    CHECK(p.multiplier > 4.0);
    for (const NodePlan& n : p.nodes) {
      // Below its initial points only when the ladder's last step says so.
      const bool capped = std::any_of(p.degrade.begin(), p.degrade.end(), [&](const std::string& d) {
        return d.find("cap node '" + n.name + "'") != std::string::npos;
      });
      if (n.kind != NodeKind::sky && !capped) CHECK(n.max_gaussians >= n.init_points);
    }
  }
  // 1 GB is below what the street scene's initial points need: the cap step is logged.
  const MemoryPlan small = plan_memory(street_inputs(1.0), model);
  CHECK(std::any_of(small.degrade.begin(), small.degrade.end(),
                    [](const std::string& d) { return d.find("cap node") != std::string::npos; }));
}

TEST_CASE("max Gaussians grow monotonically with the budget", "[plan]") {
  MemoryModel model;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> gb(0.5, 48.0);
  std::vector<double> budgets;
  for (int i = 0; i < 40; ++i) budgets.push_back(gb(rng));
  std::sort(budgets.begin(), budgets.end());
  MemoryPlan prev = plan_memory(street_inputs(budgets[0]), model);
  for (size_t i = 1; i < budgets.size(); ++i) {
    const MemoryPlan p = plan_memory(street_inputs(budgets[i]), model);
    for (size_t k = 0; k < p.nodes.size(); ++k) {
      INFO(p.nodes[k].name << " at " << budgets[i] << " GB");
      CHECK(p.nodes[k].max_gaussians >= prev.nodes[k].max_gaussians);
    }
    prev = p;
  }
}

TEST_CASE("the degrade ladder goes images, SH of low priority, resolution, caps", "[plan]") {
  MemoryModel model;
  PlanInputs in = street_inputs(1.0);
  in.image_cache = "device";
  in.nodes[0].init_points = 400000;  // background needs ~0.5 GB at SH 3 for its init points
  const MemoryPlan p = plan_memory(in, model);
  REQUIRE(p.fits);
  REQUIRE(p.degrade.size() >= 2);
  CHECK(p.degrade[0].find("stream images") != std::string::npos);
  CHECK(p.degrade[1].find("lower SH degree") != std::string::npos);
  // The highest-priority node keeps its SH degree; the lowest-priority ones lose it first.
  CHECK(p.find("background")->sh_degree == 3);
  CHECK(p.find("deformable")->sh_degree < 3);
  CHECK_FALSE(p.images_on_device);
  CHECK(p.predicted_peak_bytes <= p.budget_bytes);
}

TEST_CASE("a budget below the fixed costs is refused with what to change", "[plan]") {
  MemoryModel model;
  const MemoryPlan p = plan_memory(street_inputs(0.05), model);
  CHECK_FALSE(p.fits);
  CHECK(p.refusal.find("memory.budget_gb") != std::string::npos);
  CHECK(p.refusal.find("at least") != std::string::npos);
  CHECK(format_plan_table(p, "t").find("DOES NOT FIT") != std::string::npos);
}

TEST_CASE("a user cap limits a node without failing the plan", "[plan]") {
  MemoryModel model;
  PlanInputs in = street_inputs(12.0);
  in.nodes[1].max_gaussians = 1234;
  const MemoryPlan p = plan_memory(in, model);
  REQUIRE(p.fits);
  CHECK(p.find("rigid")->max_gaussians == 1234);
  CHECK(p.find("rigid")->capped_by_user);
}

TEST_CASE("MLP activation memory is set by the chunk, not by the Gaussian count", "[plan]") {
  MemoryModel model;
  DeformConfig d;
  const MlpShape mlp = MemoryModel::deformation_mlp(d, false);
  CHECK(mlp.input_dim == 63 + 13);
  CHECK(mlp.weight_count() > 400000);
  const int64_t chunk = MemoryModel::mlp_chunk_size(mlp, size_t(64) << 20);
  CHECK(chunk % 256 == 0);
  CHECK(size_t(chunk) * mlp.activation_bytes_per_gaussian() <= (size_t(64) << 20));
  // Doubling the budget (and so the Gaussians) keeps the activation bytes at the cap.
  PlanInputs a = street_inputs(12.0), b = street_inputs(24.0);
  const MemoryPlan pa = plan_memory(a, model), pb = plan_memory(b, model);
  CHECK(pb.total_gaussians() > pa.total_gaussians());
  CHECK(pb.fixed.mlp_activations <= model.params().mlp_activation_budget_bytes);
  CHECK(pa.fixed.mlp_activations <= model.params().mlp_activation_budget_bytes);
}

TEST_CASE("calibration moves the estimates toward measurements", "[plan]") {
  MemoryModel model;
  const size_t before = model.gaussian_cost(NodeKind::background, 3).total();
  model.calibrate(20.0, 120.0);
  CHECK(model.params().instances_per_gaussian == Approx(14.0));
  CHECK(model.gaussian_cost(NodeKind::background, 3).total() > before);
  model.calibrate(std::nan(""), -1);  // garbage measurements are ignored
  CHECK(model.params().instances_per_gaussian == Approx(14.0));
}

TEST_CASE("plan JSON has the documented keys", "[plan]") {
  const MemoryPlan p = plan_memory(street_inputs(12.0), MemoryModel());
  const std::string j = format_plan_json(p);
  for (const char* key : {"\"budget_bytes\"", "\"predicted_peak_bytes\"", "\"multiplier\"",
                          "\"degrade\"", "\"nodes\"", "\"sh_degree\"", "\"param_bytes_per_gaussian\"",
                          "\"bytes_per_gaussian\"", "\"max_gaussians\"", "\"grad_threshold\""})
    CHECK(j.find(key) != std::string::npos);
}
