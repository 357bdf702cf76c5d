// End-to-end OmniRe part 1 on the CPU: a generated street scene trains with a background node,
// a rigid node for the vehicles and the sky; the vehicles' region is learned far better than by
// the background alone; a small budget binds the rigid node's cap, raises its threshold and is
// never exceeded; bad street data exits 2 naming the file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "datasets/street_generator.h"
#include "tests/test_support.h"
#include "tests/trainer/street_test_util.h"
#include "trainer/trainer.h"

using namespace gs;
using gs::test::read_jsonl;
using gs::test::read_json;
using gs::test::TempDir;
namespace fs = std::filesystem;

namespace {

// 12 frames × 3 cameras at 160×96 (frames 4 and 8 held out), 4 vehicles.
std::string make_street(const TempDir& dir) { return gs::test::make_test_street(dir); }

// The omnire node layout at test size; `rigid` false leaves the vehicles to the background.
std::string street_yaml(bool rigid) {
  return gs::test::test_street_yaml("", rigid ? R"(  rigid:
    kind: rigid
    sh_degree: 1
    priority: 2
    share: 0.2
    init_points: 8000
    max_gaussians: 16000
    grad_threshold: 0.0005
    instances: 4
)"
                                             : "");
}

Config street_config(const std::string& scene, const std::string& out, bool rigid, int steps,
                     std::vector<std::string> extra = {}) {
  std::vector<std::string> o = {"data.path=" + scene, "out_dir=" + out, "device=cpu",
                                "train.iterations=" + std::to_string(steps),
                                "train.test_every=" + std::to_string(steps / 2)};
  o.insert(o.end(), extra.begin(), extra.end());
  return parse_config(street_yaml(rigid), "test street config", o);
}


}  // namespace

TEST_CASE("street scene: the rigid node learns the vehicles far better than the background",
          "[street][train]") {
  TempDir dir("street_train");
  const std::string scene = make_street(dir);
  constexpr int kSteps = 600;
  // The rigid node stops densifying at 400 (its own densify_stop), the background at 600.
  // The background capped at 20k in both runs (it fills 60k otherwise; measured at 20k: vehicle
  // region 27.66 dB with the rigid node, 22.07 without).
  const std::string cap = "nodes.background.max_gaussians=20000";
  const TrainSummary with = run_training(
      street_config(scene, dir / "rigid", true, kSteps, {"nodes.rigid.densify_stop=400", cap}),
      {});
  const TrainSummary without =
      run_training(street_config(scene, dir / "background", false, kSteps, {cap}), {});
  const nlohmann::json a = read_json(dir / "rigid/metrics.json");
  const nlohmann::json b = read_json(dir / "background/metrics.json");
  INFO("with the rigid node: " << a.dump());
  INFO("background only: " << b.dump());
  REQUIRE(a["test"].contains("vehicle_psnr"));
  REQUIRE(b["test"].contains("vehicle_psnr"));
  CHECK(a["test"]["vehicle_pixels"].get<size_t>() > 100);
  // The headline of OmniRe part 1: moving vehicles need their own node.
  CHECK(a["test"]["vehicle_psnr"].get<double>() >= b["test"]["vehicle_psnr"].get<double>() + 3.0);
  CHECK(with.test_psnr > 18.0);
  // Every node present, none emptied; the outputs of each node.
  REQUIRE(a["nodes"].size() == 2);
  for (const auto& n : a["nodes"]) CHECK(n["gaussians"].get<size_t>() > 0);
  const std::string ply = dir / ("rigid/point_cloud/iteration_" + std::to_string(kSteps));
  CHECK(fs::exists(ply + "/point_cloud.ply"));
  CHECK(fs::exists(ply + "/rigid_world_frame000.ply"));
  CHECK(fs::exists(ply + "/rigid_instance_000.ply"));
  // Test PSNR rises between the mid-run test and the end.
  double mid = 0;
  for (const auto& j : read_jsonl(dir / "rigid/train.jsonl"))
    if (j.contains("test_psnr")) mid = j["test_psnr"].get<double>();
  CHECK(mid > 0);
  CHECK(with.test_psnr > mid);
  // Per-node densification windows: events of both nodes before 400, of the background only
  // after it.
  int rigid_last = 0, background_last = 0;
  for (const auto& j : read_jsonl(dir / "rigid/memory.jsonl"))
    for (const auto& e : j["events"]) {
      const std::string ev = e.get<std::string>();
      const int at = j["step"].get<int>();
      if (ev.rfind("densify of 'rigid'", 0) == 0) rigid_last = std::max(rigid_last, at);
      if (ev.rfind("densify of 'background'", 0) == 0) background_last = std::max(background_last, at);
    }
  CHECK(rigid_last > 0);
  CHECK(rigid_last < 400);
  CHECK(background_last >= 550);
  (void)without;
}

TEST_CASE("street scene: a small budget binds the rigid cap, raises its threshold, holds",
          "[street][train][memory]") {
  TempDir dir("street_budget");
  const std::string scene = make_street(dir);
  // Caps from the plan (max_gaussians 0) under a 60 MB budget of which the rigid node's share
  // (0.04) plans about 2900 Gaussians: its ~2400 initial ones grow past that by the 5th of the
  // 6 densify events (measured: 2407, 2492, 2618, 2869, 3074 uncapped).
  const Config cfg = street_config(scene, dir / "out", true, 500,
                                   {"memory.budget_gb=0.06", "nodes.background.max_gaussians=0",
                                    "nodes.rigid.max_gaussians=0", "nodes.rigid.share=0.04",
                                    "nodes.background.init_points=20000"});
  const TrainSummary s = run_training(cfg, {});
  CHECK(s.peak_bytes <= s.budget_bytes);
  bool rigid_threshold_raised = false;
  size_t lines = 0;
  for (const auto& j : read_jsonl(dir / "out/memory.jsonl")) {
    ++lines;
    INFO(j.dump());
    CHECK(j["peak_bytes"].get<size_t>() <= j["budget_bytes"].get<size_t>());
    CHECK(j["gaussians"]["background"].get<size_t>() > 0);
    CHECK(j["gaussians"]["rigid"].get<size_t>() > 0);
    if (j["grad_threshold"]["rigid"].get<double>() > 0.0005) rigid_threshold_raised = true;
  }
  CHECK(lines >= 8);
  CHECK(rigid_threshold_raised);
}

TEST_CASE("street scene: bad data exits 2 naming the file", "[street][cli]") {
  TempDir dir("street_cli");
  const std::string scene = make_street(dir);
  const std::string gstrain = std::string(GSTRAIN_BINARY_DIR) + "/bin/gstrain";
  const std::string common = gstrain + " --config omnire_12gb.yaml --device cpu --no-progress"
                             " --out '" + (dir / "out") + "' --data ";
  const gs::test::CommandResult missing = gs::test::run_command(dir, common + "/nonexistent/street");
  CHECK(missing.code == 2);
  CHECK(missing.err.find("/nonexistent/street") != std::string::npos);
  // A truncated LiDAR sweep.
  const std::string bin = scene + "/lidar/003.bin";
  fs::resize_file(bin, fs::file_size(bin) - 10);
  const gs::test::CommandResult truncated = gs::test::run_command(dir, common + "'" + scene + "'");
  INFO(truncated.err);
  CHECK(truncated.code == 2);
  CHECK(truncated.err.find("003.bin") != std::string::npos);
}

TEST_CASE("street scene: a stopped run resumes exactly where the uninterrupted run goes",
          "[street][train]") {
  TempDir dir("street_resume");
  const std::string scene = make_street(dir);
  // The stop falls in the ½-resolution window; densification (every 50 steps), the switch to
  // full resolution at 500 and the poses', sky's and exposures' Adam states continue after it.
  constexpr int kSteps = 560;
  TrainerOptions quiet;
  quiet.progress = 0;
  auto config = [&](const std::string& out) {
    return street_config(scene, out, true, kSteps, {"nodes.background.max_gaussians=20000"});
  };
  const TrainSummary whole = run_training(config(dir / "whole"), quiet);
  TrainerOptions stop = quiet;
  stop.stop_after = 260;
  const TrainSummary first = run_training(config(dir / "split"), stop);
  CHECK(first.interrupted);
  TrainerOptions resume = quiet;
  resume.resume = true;
  const TrainSummary rest = run_training(config(dir / "split"), resume);
  CHECK(rest.iterations_done == kSteps);
  const std::string it = "/point_cloud/iteration_" + std::to_string(kSteps);
  for (const char* file : {"/point_cloud.ply", "/rigid_world_frame000.ply"}) {
    INFO(file);
    const std::string a = gs::test::read_text(dir / "whole" + it + file);
    const std::string b = gs::test::read_text(dir / "split" + it + file);
    REQUIRE(!a.empty());
    CHECK(a == b);  // the CPU backend is deterministic: the same bytes
  }
  CHECK(rest.test_psnr == Approx(whole.test_psnr).epsilon(1e-9));
  CHECK(rest.gaussians == whole.gaussians);
}
