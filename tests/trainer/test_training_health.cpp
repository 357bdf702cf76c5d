// Issue 9: training that survives its own schedule and fails loudly when it cannot. Opacity
// resets must not gut a node, the deformable loop must keep its Gaussians across the MLP's
// switch-on and a reset, and a run whose node empties, whose loss turns NaN or diverges must
// stop with an error naming the step, keeping the last good checkpoint.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "datasets/scene_generator.h"
#include "config/config.h"
#include "optim/loss_watch.h"
#include "trainer/trainer.h"
#include "tests/test_support.h"

using namespace gs;
using gs::test::read_jsonl;
using gs::test::TempDir;
namespace fs = std::filesystem;

namespace {

TrainerOptions quiet() {
  TrainerOptions o;
  o.progress = 0;
  return o;
}

// 128×128 (static) and nodes capped at 2000 Gaussians: each covers several pixels, as Gaussians
// do at full resolution (a screen-size rule scaled from 800 px down to 128 px bites the same way).
std::string make_scene(const TempDir& dir, const std::string& kind) {
  GeneratedSceneOptions g;
  g.kind = kind;
  g.views = 24;
  g.test_views = 4;
  g.width = g.height = kind == "static" ? 128 : 64;
  g.points = 1500;
  g.white_background = false;
  const std::string path = dir / ("scene_" + kind);
  generate_scene(path, g);
  return path;
}

// Resets at 200, 400 and 600 (at least two, as the issue asks), densify every 50 steps up to 700.
std::vector<std::string> schedule(const std::string& scene, const std::string& out, int steps) {
  return {"data.path=" + scene, "data.background=black", "out_dir=" + out, "device=cpu",
          "train.iterations=" + std::to_string(steps), "train.log_every=25",
          "train.test_every=100", "train.save_every=100000", "train.sh_increase_every=100",
          "densify.start=100", "densify.every=50", "densify.stop=700",
          "densify.opacity_reset_every=200", "memory.budget_gb=0.5", "memory.log_every=25"};
}

Config static_config(const std::string& scene, const std::string& out, int steps,
                     std::vector<std::string> extra = {}) {
  std::vector<std::string> o = schedule(scene, out, steps);
  o.push_back("nodes.background.max_gaussians=2000");
  o.insert(o.end(), extra.begin(), extra.end());
  return load_config(std::string(GSTRAIN_TEST_FIXTURES) + "/configs/tiny_static.yaml", o);
}

struct Trace {
  std::vector<std::pair<int, double>> test_psnr;  // step → held-out PSNR (before that step's reset)
  size_t peak = 0, lowest_after_peak = SIZE_MAX;  // Gaussian counts from train.jsonl
  double psnr_at(int step) const {
    for (const auto& [s, p] : test_psnr)
      if (s == step) return p;
    FAIL("no test PSNR at step " << step);
    return 0;
  }
};

Trace read_trace(const std::string& out) {
  Trace t;
  for (const nlohmann::json& j : read_jsonl(out + "/train.jsonl")) {
    const size_t n = j["gaussians"].get<size_t>();
    if (j.contains("test_psnr")) t.test_psnr.emplace_back(j["step"].get<int>(), j["test_psnr"].get<double>());
    if (n > t.peak) {
      t.peak = n;
      t.lowest_after_peak = n;
    }
    t.lowest_after_peak = std::min(t.lowest_after_peak, n);
  }
  return t;
}

size_t events_containing(const std::string& out, const std::string& what) {
  size_t k = 0;
  for (const nlohmann::json& e : read_jsonl(out + "/memory.jsonl"))
    for (const auto& ev : e["events"])
      if (ev.get<std::string>().find(what) != std::string::npos) ++k;
  return k;
}

}  // namespace

TEST_CASE("loss watch: NaN fails at once, a reset's spike passes, divergence fails", "[health]") {
  LossWatch w(3.0, 100);
  for (int s = 1; s <= 200; ++s) REQUIRE(w.observe(s, 0.1 * std::exp(-s / 50.0) + 0.02).empty());
  CHECK(w.healthy());
  // An opacity reset: the loss jumps 6× for 60 steps, then recovers.
  for (int s = 201; s <= 230; ++s) REQUIRE(w.observe(s, 0.12).empty());
  CHECK_FALSE(w.healthy());  // not a moment for a checkpoint
  for (int s = 231; s <= 260; ++s) REQUIRE(w.observe(s, 0.12).empty());
  for (int s = 261; s <= 400; ++s) REQUIRE(w.observe(s, 0.02).empty());
  CHECK(w.healthy());
  // Divergence: 10× its best from step 401 on; fails once it has lasted `patience` steps.
  std::string why;
  int failed_at = 0;
  for (int s = 401; s <= 700 && why.empty(); ++s) {
    why = w.observe(s, 0.3);
    failed_at = s;
  }
  CHECK_THAT(why, Catch::Contains("diverged"));
  CHECK(failed_at > 500);
  CHECK(failed_at < 520);
  LossWatch n(3.0, 100);
  CHECK_THAT(n.observe(1, std::nan("")), Catch::Contains("NaN"));
  // The state travels with checkpoints.
  LossWatch r(3.0, 100);
  r.restore(w.state());
  CHECK(r.best() == w.best());
  CHECK(r.smoothed() == w.smoothed());
}

TEST_CASE("opacity resets do not gut the node: PSNR recovers, the count stays", "[train][health]") {
  TempDir dir("health");
  const std::string scene = make_scene(dir, "static");
  const std::string out = dir / "run";
  const TrainSummary s = run_training(static_config(scene, out, 700), quiet());
  const Trace t = read_trace(out);
  REQUIRE(events_containing(out, "opacity reset") == 3);
  INFO("test PSNR before the reset at 200: " << t.psnr_at(200) << " dB, 500 steps later "
                                             << s.test_psnr << " dB; peak " << t.peak
                                             << " Gaussians, lowest after it " << t.lowest_after_peak);
  CHECK(s.test_psnr >= t.psnr_at(200) - 0.5);
  CHECK(s.test_psnr >= t.psnr_at(400) - 0.5);
  CHECK(t.lowest_after_peak >= t.peak / 4);
  CHECK(s.gaussians >= t.peak / 4);

  // The rule this replaced: a 20-pixel screen limit after the first reset, which at 800×800 is
  // 2.5% of the image side. Scaled to this image it guts the node as it did the chair at 800 px
  // (99k → 32k Gaussians): the check above can fail.
  const std::string old_out = dir / "old_rule";
  const TrainSummary old = run_training(
      static_config(scene, old_out, 400, {"densify.prune_screen_fraction=0.025"}), quiet());
  const Trace o = read_trace(old_out);
  INFO("old rule: peak " << o.peak << ", lowest after it " << o.lowest_after_peak << ", PSNR "
                         << o.psnr_at(200) << " -> " << old.test_psnr);
  CHECK(o.lowest_after_peak < o.peak / 4);
  CHECK(old.test_psnr < o.psnr_at(200) - 3.0);
}

TEST_CASE("a deformable run keeps its Gaussians and PSNR across the switch-on and a reset",
          "[train][health][deform]") {
  TempDir dir("health");
  const std::string scene = make_scene(dir, "dynamic");
  const std::string out = dir / "run";
  // The MLP switches on after step 200, where the first opacity reset falls.
  std::vector<std::string> o = schedule(scene, out, 700);
  for (const char* x : {"deform.warmup_steps=200", "deform.chunk_size=1024",
                        "nodes.dynamic.max_gaussians=1500"})
    o.push_back(x);
  const Config c = load_config(std::string(GSTRAIN_TEST_FIXTURES) + "/configs/tiny_deformable.yaml", o);
  const TrainSummary s = run_training(c, quiet());
  const Trace t = read_trace(out);
  INFO("test PSNR at 200 " << t.psnr_at(200) << " dB, at the end " << s.test_psnr << " dB; peak "
                           << t.peak << ", lowest after it " << t.lowest_after_peak);
  CHECK(events_containing(out, "opacity reset at step 200") == 1);
  CHECK(t.lowest_after_peak >= t.peak / 4);
  CHECK(s.test_psnr >= t.psnr_at(200) - 0.5);
}

TEST_CASE("a run whose node would empty fails cleanly, or keeps the floor", "[train][health]") {
  TempDir dir("health");
  const std::string scene = make_scene(dir, "static");
  // Every Gaussian is below min_opacity 0.99 at the first densify (step 150).
  const std::vector<std::string> doomed = {"densify.min_opacity=0.99", "train.save_every=100"};
  SECTION("no floor: an error naming the step and the densify event; the checkpoint stays") {
    const std::string out = dir / "empty";
    std::vector<std::string> o = doomed;
    o.push_back("densify.prune_floor=0");
    std::string what;
    try {
      run_training(static_config(scene, out, 200, o), quiet());
    } catch (const TrainingFailed& e) {
      what = e.what();
    }
    INFO(what);
    CHECK_THAT(what, Catch::Contains("training failed at step 150"));
    CHECK_THAT(what, Catch::Contains("no Gaussians left"));
    CHECK_THAT(what, Catch::Contains("densify at step 150"));
    CHECK_THAT(what, Catch::Contains("last good checkpoint (step 100)"));
    CHECK(fs::exists(out + "/checkpoints/latest.ckpt"));
    CHECK(!fs::exists(out + "/metrics.json"));  // no result from a failed run
    CHECK(events_containing(out, "training failed at step 150") == 1);
  }
  SECTION("the default floor: the node keeps 10% of its peak and the event says so") {
    const std::string out = dir / "floor";
    const TrainSummary s = run_training(static_config(scene, out, 200, doomed), quiet());
    CHECK(s.gaussians > 0);
    CHECK(events_containing(out, "prune floor at step 150") == 1);
  }
}

TEST_CASE("a diverging run fails, naming the step, and keeps the last good checkpoint",
          "[train][health]") {
  TempDir dir("health");
  const std::string scene = make_scene(dir, "static");
  const std::string out = dir / "run";
  // A healthy start with a checkpoint at step 100, then resumed with learning rates of 1 (the
  // issue's fault: before, such a run ended at 3.7 dB and exit 0).
  // No opacity resets: with resets every 200 steps the pruning they trigger holds such a run at
  // about 2.3x its best loss (9 dB), which the watch's 3x does not call divergence (see README).
  std::vector<std::string> base = {"data.background=white", "train.save_every=100",
                                   "densify.opacity_reset_every=100000",
                                   "nodes.background.max_gaussians=3000"};
  TrainerOptions stop = quiet();
  stop.stop_after = 100;
  run_training(static_config(scene, out, 1500, base), stop);
  std::vector<std::string> wild = base;
  for (const char* k : {"lr_position_init", "lr_position_final", "lr_scale", "lr_rotation",
                        "lr_opacity", "lr_sh_dc", "lr_sh_rest"})
    wild.push_back(std::string("train.") + k + "=1");
  wild.push_back("train.divergence_steps=300");
  TrainerOptions resume = quiet();
  resume.resume = true;
  std::string what;
  try {
    run_training(static_config(scene, out, 1500, wild), resume);
  } catch (const TrainingFailed& e) {
    what = e.what();
  }
  INFO(what);
  CHECK_THAT(what, Catch::Contains("diverged"));
  // Saves are skipped while the loss is far above its best: the kept one is from before.
  CHECK_THAT(what, Catch::Contains("last good checkpoint (step "));
  // The checkpoint on disk is still the healthy one.
  TrainerOptions again = quiet();
  again.resume = true;
  again.stop_after = 101;
  const TrainSummary s = run_training(static_config(scene, dir / "run", 1500, base), again);
  CHECK(s.iterations_done == 101);
}

TEST_CASE("densify.pause_after_reset: no densify until every view was seen after a reset",
          "[train][health]") {
  TempDir dir("health");
  const std::string scene = make_scene(dir, "static");
  auto densify_steps = [&](const std::string& out) {
    std::vector<int> steps;
    for (const nlohmann::json& e : read_jsonl(out + "/memory.jsonl"))
      for (const auto& ev : e["events"]) {
        const std::string s = ev.get<std::string>();
        if (s.rfind("densify at step ", 0) == 0) steps.push_back(std::stoi(s.substr(16)));
      }
    return steps;
  };
  auto has = [](const std::vector<int>& v, int s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  // 24 training views and densify every 50 steps: a pause of max(24, 50) = 50 steps after the
  // resets at 200 and 400, so the densify steps 250 and 450 are skipped.
  run_training(static_config(scene, dir / "paused", 500, {"densify.pause_after_reset=true"}),
               quiet());
  run_training(static_config(scene, dir / "through", 500), quiet());
  const std::vector<int> paused = densify_steps(dir / "paused"),
                         through = densify_steps(dir / "through");
  INFO("densify steps with the pause: " << paused.size() << ", without: " << through.size());
  CHECK(has(through, 250));
  CHECK(has(through, 450));
  CHECK_FALSE(has(paused, 250));
  CHECK_FALSE(has(paused, 450));
  for (int s : {150, 200, 300, 350, 400})
    CHECK(has(paused, s));
  CHECK(events_containing(dir / "paused", "opacity reset") == 2);
}
