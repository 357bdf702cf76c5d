// The budget controller across scene nodes: calibration reproduces the single-node rule with one
// node and shares the room by capacity with several, out-of-memory recovery prunes the
// lowest-priority non-empty node, and its state survives a checkpoint (including the keys of
// single-node checkpoints written before the scene graph).
#include <algorithm>
#include <catch2/catch.hpp>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "budget/budget_controller.h"
#include "core/errors.h"
#include "tests/scene/node_test_util.h"

using namespace gs;
using namespace gs::test;

namespace {

// Background nodes with the given capacities, counts and priorities (CPU, SH degree 1).
struct Nodes {
  Config cfg = static_config();
  std::deque<NodeConfig> configs;  // node setups point into it: no reallocation
  std::vector<std::unique_ptr<SceneNode>> owned;
  std::vector<SceneNode*> ptrs;

  void add(const std::string& name, size_t capacity, size_t count, int priority = 1) {
    configs.push_back(node_config(cfg, name, priority));
    auto node = make_scene_node(node_setup(cfg, configs.back(), capacity));
    std::mt19937 rng(unsigned(capacity + count));
    if (count > 0) node->model().load_cloud(random_cloud(rng, count, 1));
    ptrs.push_back(node.get());
    owned.push_back(std::move(node));
  }
  std::vector<size_t> counts() const {
    std::vector<size_t> c;
    for (const SceneNode* n : ptrs) c.push_back(n->count());
    return c;
  }
};

}  // namespace

TEST_CASE("budget: one node calibrates to the single-node rule", "[budget]") {
  Nodes n;
  n.add("background", 10000, 1000);
  BudgetController b(n.ptrs, {0.0002}, 500.0);
  CHECK(b.node(0).growth_limit == 10000);
  CHECK(b.node(0).peak_count == 1000);
  CHECK(b.predicted_peak(1000, 10) == 1000 + 5000);

  const size_t persistent = 2'000'000;
  const double per = 400;  // measured per-view bytes per Gaussian
  const size_t measured = persistent + size_t(per * 1000);
  SECTION("the cap binds: limit = (cap - persistent) / per") {
    const size_t cap = persistent + 1'600'000;  // room for 4000 Gaussians
    const auto events = b.calibrate(measured, persistent, cap, n.counts());
    CHECK(b.transient_per_gaussian() == Approx(per));
    CHECK(b.node(0).growth_limit == std::min<size_t>(10000, size_t((cap - persistent) / per)));
    CHECK(b.node(0).growth_limit == 4000);
    REQUIRE(events.size() == 1);
    CHECK_THAT(events[0], Catch::Contains("10000 -> 4000"));
    // Unchanged on the next window: no event.
    CHECK(b.calibrate(measured, persistent, cap, n.counts()).empty());
  }
  SECTION("the capacity binds") {
    const size_t cap = persistent + 100'000'000;
    CHECK(b.calibrate(measured, persistent, cap, n.counts()).empty());
    CHECK(b.node(0).growth_limit == 10000);
  }
  SECTION("the cap is below today's count: the limit is what fits") {
    const size_t cap = persistent + 200'000;  // 500 Gaussians
    b.calibrate(measured, persistent, cap, n.counts());
    CHECK(b.node(0).growth_limit == 500);
  }
  SECTION("no cap, or nothing measured above the persistent bytes: no re-plan") {
    CHECK(b.calibrate(measured, persistent, 0, n.counts()).empty());
    CHECK(b.transient_per_gaussian() == Approx(per));
    CHECK(b.calibrate(persistent, persistent, persistent + 1000, n.counts()).empty());
    CHECK(b.node(0).growth_limit == 10000);
  }
}

TEST_CASE("budget: two nodes share the room by capacity", "[budget]") {
  Nodes n;
  n.add("background", 30000, 1000, 3);
  n.add("vehicles", 10000, 1000, 2);
  BudgetController b(n.ptrs, {0.0002, 0.0005}, 500.0);
  CHECK(b.node(1).threshold_used == 0.0005);
  const size_t persistent = 1'000'000;
  const double per = 100;
  const size_t measured = persistent + size_t(per * 2000);
  // 10000 Gaussians fit; 8000 above today's 2000, shared 3 : 1.
  const size_t cap = persistent + 1'000'000;
  const auto events = b.calibrate(measured, persistent, cap, n.counts());
  CHECK(events.size() == 2);
  CHECK(b.node(0).growth_limit == 1000 + 6000);
  CHECK(b.node(1).growth_limit == 1000 + 2000);
  CHECK(b.node(0).growth_limit + b.node(1).growth_limit == 10000);

  // Room for more than both capacities: each is limited by its own.
  b.calibrate(measured, persistent, persistent + 100'000'000, n.counts());
  CHECK(b.node(0).growth_limit == 30000);
  CHECK(b.node(1).growth_limit == 10000);
}

TEST_CASE("budget: a node squeezed out by calibration stops growing", "[budget]") {
  // Far over budget: the room above today's counts is negative, and the small node's share of
  // it takes it below zero. Its growth limit then must not read as "no limit" to densify
  // (DensifySettings::capacity_limit 0 means the model's capacity).
  Nodes n;
  n.add("background", 30000, 100, 3);
  n.add("vehicles", 10000, 10000, 2);
  BudgetController b(n.ptrs, {0.0002, 0.0002}, 500.0);
  const size_t persistent = 1'000'000;
  const double per = 100;
  const size_t measured = persistent + size_t(per * 10100);
  b.calibrate(measured, persistent, persistent + 500'000, n.counts());  // 5000 fit
  CHECK(b.node(1).growth_limit < 10000);

  // Every Gaussian of the small node is a candidate; densify under its growth limit.
  SceneNode& small = *n.ptrs[0];
  small.model().with_host_arrays(
      [](ModelHostArrays& a) {
        for (size_t i = 0; i < 100; ++i) {
          a.absgrad_accum[i] = 1.f;
          a.grad_count[i] = 1.f;
        }
      },
      true);
  DensifySettings s;
  s.capacity_limit = b.node(0).growth_limit;
  std::mt19937_64 rng(1);
  const DensifyResult r = small.densify(s, rng);
  CHECK(r.candidates == 100);
  CHECK(r.admitted == 0);
  CHECK(small.count() <= 100);
}

TEST_CASE("budget: OOM recovery prunes the lowest-priority non-empty node first", "[budget]") {
  Nodes n;
  n.add("background", 1000, 400, 3);
  n.add("people", 1000, 0, 1);  // lowest priority, but empty
  n.add("vehicles", 1000, 200, 2);
  n.add("more_vehicles", 1000, 300, 2);  // same priority, larger: frees more
  BudgetController b(n.ptrs, {0.0002, 0.0002, 0.0002, 0.0002}, 500.0);

  const std::string ev = b.recover_from_oom(n.ptrs, 42, "budget exceeded", 0.1);
  CHECK(n.ptrs[0]->count() == 400);
  CHECK(n.ptrs[1]->count() == 0);
  CHECK(n.ptrs[2]->count() == 200);
  CHECK(n.ptrs[3]->count() == 270);
  CHECK(b.node(3).growth_limit == 270);
  CHECK(b.node(0).growth_limit == 1000);
  CHECK_THAT(ev, Catch::Contains("step 42") && Catch::Contains("pruned 30") &&
                     Catch::Contains("more_vehicles") && Catch::Contains("cap now 270"));

  // The larger of the two priority-2 nodes loses Gaussians until it is the smaller one:
  // 270 -> 243 -> 218 -> 196, then the other one: 200 -> 180.
  for (int i = 0; i < 4; ++i) b.recover_from_oom(n.ptrs, 43, "again", 0.1);
  CHECK(n.ptrs[3]->count() == 196);
  CHECK(n.ptrs[2]->count() == 180);
  CHECK(b.node(2).growth_limit == 180);
  CHECK(n.ptrs[0]->count() == 400);  // the highest priority is untouched throughout
  CHECK(n.ptrs[1]->count() == 0);

  // Every node empty: nothing to prune, the error goes on.
  Nodes empty;
  empty.add("background", 100, 0);
  BudgetController e(empty.ptrs, {0.0002}, 500.0);
  CHECK_THROWS_AS(e.recover_from_oom(empty.ptrs, 1, "refused", 0.1), OutOfMemoryError);
}

TEST_CASE("budget: state round trip and old single-node state", "[budget]") {
  Nodes n;
  n.add("background", 30000, 1000, 3);
  n.add("vehicles", 10000, 500, 2);
  BudgetController a(n.ptrs, {0.0002, 0.0005}, 500.0);
  a.node(0).growth_limit = 12345;
  a.node(0).threshold_used = 0.00031;
  a.node(0).peak_count = 2222;
  a.node(1).growth_limit = 777;
  a.node(1).peak_count = 999;
  a.calibrate(1000 + 150 * 1500, 1000, 0, n.counts());  // transient 150, no cap
  REQUIRE(a.transient_per_gaussian() == Approx(150));

  // The trainer checkpoints it under "budget" in its state.
  const nlohmann::json trainer_state = {{"budget", a.state()}, {"train_seconds", 1.5}};
  BudgetController b(n.ptrs, {0.0002, 0.0005}, 500.0);
  b.restore(nlohmann::json::parse(trainer_state.dump()));
  CHECK(b.transient_per_gaussian() == Approx(150));
  for (size_t i = 0; i < 2; ++i) {
    CHECK(b.node(i).growth_limit == a.node(i).growth_limit);
    CHECK(b.node(i).threshold_used == a.node(i).threshold_used);
    CHECK(b.node(i).peak_count == a.node(i).peak_count);
    CHECK(b.node(i).capacity == a.node(i).capacity);
  }

  SECTION("old single-node keys at the top level") {
    Nodes one;
    one.add("background", 30000, 1000);
    BudgetController c(one.ptrs, {0.0002}, 500.0);
    c.restore({{"capacity_limit", 4321},
               {"threshold_used", 0.0007},
               {"peak_count", 5000},
               {"transient_per_gaussian", 321.5},
               {"train_seconds", 2.0}});
    CHECK(c.node(0).growth_limit == 4321);
    CHECK(c.node(0).threshold_used == 0.0007);
    CHECK(c.node(0).peak_count == 5000);
    CHECK(c.transient_per_gaussian() == 321.5);
  }
  SECTION("a state without budget keys changes nothing") {
    BudgetController c(n.ptrs, {0.0002, 0.0005}, 500.0);
    c.restore({{"train_seconds", 2.0}});
    CHECK(c.node(0).growth_limit == 30000);
    CHECK(c.node(1).peak_count == 500);
    CHECK(c.transient_per_gaussian() == 500.0);
  }
}
