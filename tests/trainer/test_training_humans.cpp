// OmniRe part 2 on the CPU: the generated street scene's walkers as skinned humans (their poses
// from humanpose/, the procedural template) and as deformable instances. The posed template
// lands in the humans' boxes (the whole chain: generator → pose file → loader → world → kinematic
// chain → skinning); each dynamic-actor node learns the humans' region far better than the
// background alone; bad pose and template files exit 2 naming what is wrong.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/errors.h"
#include "datasets/body_template_file.h"
#include "datasets/street_generator.h"
#include "datasets/street_scene.h"
#include "deform/skeleton.h"
#include "tests/test_support.h"
#include "tests/trainer/street_test_util.h"
#include "trainer/street_data.h"
#include "trainer/street_nodes.h"
#include "trainer/trainer.h"

using namespace gs;
using gs::test::read_json;
using gs::test::TempDir;
namespace fs = std::filesystem;

namespace {

// The test street with the three walkers (two with poses) and no vehicles unless asked.
std::string make_street(const TempDir& dir, int vehicles = 0) {
  return gs::test::make_test_street(dir, vehicles);
}

// `actors`: "" (humans left to the background), "skeleton", "deformable" or
// "skeleton+deformable" (the posed walkers skinned, the unposed one deformable).
std::string humans_yaml(const std::string& actors) {
  std::string nodes;
  if (actors.find("skeleton") != std::string::npos)
    nodes += R"(  smpl:
    kind: skeleton
    sh_degree: 1
    priority: 1
    share: 0.1
    init_points: 6000
    max_gaussians: 6000
    instances: 2
)";
  if (actors.find("deformable") != std::string::npos)
    nodes += R"(  deformable:
    kind: deformable
    sh_degree: 1
    priority: 1
    share: 0.1
    init_points: 4000
    max_gaussians: 8000
    grad_threshold: 0.0005
    instances: 2
)";
  return gs::test::test_street_yaml(R"(deform:
  depth: 2
  width: 32
  skip_layer: 0
  position_frequencies: 4
  time_frequencies: 4
  warmup_steps: 200
  lr: 0.0016
)",
                                    nodes);
}

Config humans_config(const std::string& scene, const std::string& out, const std::string& actors,
                     int steps, std::vector<std::string> extra = {}) {
  std::vector<std::string> o = {"data.path=" + scene, "out_dir=" + out, "device=cpu",
                                "train.iterations=" + std::to_string(steps),
                                "train.test_every=" + std::to_string(steps)};
  o.insert(o.end(), extra.begin(), extra.end());
  return parse_config(humans_yaml(actors), "test humans config", o);
}


void write_json(const std::string& path, const nlohmann::json& j) {
  std::ofstream(path) << j.dump();
}

}  // namespace

TEST_CASE("humans: the posed template lands in each walker's box in every frame",
          "[street][humans]") {
  TempDir dir("humans_pose");
  const std::string scene = make_street(dir);
  Dataset data;
  const Config cfg = humans_config(scene, dir / "out", "skeleton", 10);
  const StreetTraining st = load_street_training(scene, cfg, data);
  REQUIRE(st.human_instances.size() == 2);
  const SkeletonHumans h = skeleton_humans(st, data, *cfg.find_node("smpl"), 1);
  REQUIRE(h.count() == 2);
  size_t posed_frames = 0;
  for (size_t k = 0; k < h.count(); ++k) {
    const StreetInstance& inst = st.scene.instances[size_t(st.human_instances[k])];
    for (int f = 0; f < h.frames; ++f) {
      if (!h.present[size_t(f) * h.count() + k]) continue;
      ++posed_frames;
      double pose[kPoseFloats], A[kSkeletonJoints * 12], Q[kSkeletonJoints * 4];
      const float* p = h.poses.data() + (size_t(f) * h.count() + k) * size_t(kPoseFloats);
      for (int i = 0; i < kPoseFloats; ++i) pose[i] = p[i];
      pose_skeleton(h.body, pose, A, Q);
      const auto& m = inst.box_to_world[size_t(f)];
      size_t inside = 0;
      for (size_t v = 0; v < h.body.size(); ++v) {
        double x[3] = {0, 0, 0};
        for (int i = 0; i < kSkinInfluences; ++i) {
          const double* a = A + 12 * h.body.skin_joints[v][size_t(i)];
          for (int r = 0; r < 3; ++r)
            x[r] += h.body.skin_weights[v][size_t(i)] *
                    (a[4 * r] * h.body.vertices[v][0] + a[4 * r + 1] * h.body.vertices[v][1] +
                     a[4 * r + 2] * h.body.vertices[v][2] + a[4 * r + 3]);
        }
        // Into the box frame: Rᵀ (x − t).
        const double d[3] = {x[0] - m[3], x[1] - m[7], x[2] - m[11]};
        bool in = true;
        for (int a = 0; a < 3; ++a) {
          const double local = m[size_t(a)] * d[0] + m[size_t(4 + a)] * d[1] + m[size_t(8 + a)] * d[2];
          in = in && std::abs(local) <= 0.5 * inst.box_size[size_t(a)] + 0.05;
        }
        inside += in ? 1 : 0;
      }
      INFO("human " << k << " frame " << f);
      CHECK(double(inside) >= 0.97 * double(h.body.size()));
    }
  }
  CHECK(posed_frames >= 12);
}

TEST_CASE("humans: skinned and deformable humans beat the background on the humans' region",
          "[street][humans][train]") {
  TempDir dir("humans_train");
  const std::string scene = make_street(dir);
  constexpr int kSteps = 800;
  TrainerOptions quiet;
  quiet.progress = 0;
  // The background capped at 15k Gaussians in all three runs (it fills 60k otherwise): the
  // comparison is about the humans, and each run takes under half a minute on two cores.
  const std::vector<std::string> cap = {"nodes.background.max_gaussians=15000",
                                        "nodes.background.init_points=20000"};
  run_training(humans_config(scene, dir / "skeleton", "skeleton", kSteps, cap), quiet);
  run_training(humans_config(scene, dir / "deformable", "deformable", kSteps, cap), quiet);
  run_training(humans_config(scene, dir / "background", "", kSteps, cap), quiet);
  const nlohmann::json s = read_json(dir / "skeleton/metrics.json");
  const nlohmann::json d = read_json(dir / "deformable/metrics.json");
  const nlohmann::json b = read_json(dir / "background/metrics.json");
  INFO("skeleton: " << s.dump());
  INFO("deformable: " << d.dump());
  INFO("background: " << b.dump());
  REQUIRE(b["test"].contains("human_psnr"));
  CHECK(b["test"]["human_pixels"].get<size_t>() > 50);
  // At this size (~40 human pixels a test view, 800 steps of which 500 at ¼ and ½ resolution)
  // measured: background 18.49, skeleton 21.86 (+3.4), deformable 19.54 dB (+1.0; the shared
  // MLP switches on at 200 and its instances start from ~25 LiDAR points each). The issue's
  // ≥ 3 dB is measured on the embedded scene (2000 steps, 240×160; docs/benchmarks.md: +6.4 and
  // +5.7 dB).
  const double base = b["test"]["human_psnr"].get<double>();
  CHECK(s["test"]["human_psnr"].get<double>() >= base + 2.0);
  CHECK(d["test"]["human_psnr"].get<double>() >= base + 0.5);
  for (const nlohmann::json* m : {&s, &d}) {
    REQUIRE((*m)["nodes"].size() == 2);
    for (const auto& n : (*m)["nodes"]) CHECK(n["gaussians"].get<size_t>() > 0);
  }
}

TEST_CASE("humans: every node under a shrunk budget: caps bind, the peak holds, none empties",
          "[street][humans][train][memory]") {
  TempDir dir("humans_budget");
  const std::string scene = make_street(dir, 4);
  // All node kinds with caps from the plan under a 70 MB budget.
  std::string yaml = humans_yaml("skeleton");
  yaml.insert(yaml.find("  sky:"), R"(  rigid:
    kind: rigid
    sh_degree: 1
    priority: 2
    share: 0.05
    init_points: 8000
    grad_threshold: 0.0005
    instances: 4
  deformable:
    kind: deformable
    sh_degree: 1
    priority: 1
    share: 0.05
    init_points: 4000
    grad_threshold: 0.0005
    instances: 2
)");
  const Config cfg = parse_config(
      yaml, "test humans budget config",
      {"data.path=" + scene, "out_dir=" + (dir / "out"), "device=cpu", "train.iterations=500",
       "train.test_every=500", "memory.budget_gb=0.07", "nodes.background.max_gaussians=0",
       "nodes.smpl.max_gaussians=0", "nodes.background.init_points=20000"});
  TrainerOptions quiet;
  quiet.progress = 0;
  const TrainSummary s = run_training(cfg, quiet);
  CHECK(s.peak_bytes <= s.budget_bytes);
  size_t lines = 0;
  bool some_threshold_raised = false;
  for (const auto& j : gs::test::read_jsonl(dir / "out/memory.jsonl")) {
    ++lines;
    INFO(j.dump());
    CHECK(j["peak_bytes"].get<size_t>() <= j["budget_bytes"].get<size_t>());
    for (const char* node : {"background", "rigid", "deformable", "smpl"}) {
      REQUIRE(j["gaussians"].contains(node));
      CHECK(j["gaussians"][node].get<size_t>() > 0);
    }
    for (const auto& [name, t] : j["grad_threshold"].items())
      if (t.get<double>() > 0.0005 * 1.01) some_threshold_raised = true;
  }
  CHECK(lines >= 8);
  CHECK(some_threshold_raised);
}

TEST_CASE("humans: a stopped run with skinned and deformable humans resumes exactly",
          "[street][humans][train]") {
  TempDir dir("humans_resume");
  const std::string scene = make_street(dir);
  // Both actor nodes (the unposed walker goes to the deformable node); the stop falls after the
  // shared MLP switched on (200), so the poses', weights', MLP's and embeddings' Adam states
  // all continue from the checkpoint.
  const std::string yaml = humans_yaml("skeleton+deformable");
  constexpr int kSteps = 320;
  auto config = [&](const std::string& out) {
    return parse_config(yaml, "test humans resume config",
                        {"data.path=" + scene, "out_dir=" + out, "device=cpu",
                         "train.iterations=" + std::to_string(kSteps), "train.test_every=1000",
                         "nodes.background.max_gaussians=30000"});
  };
  TrainerOptions quiet;
  quiet.progress = 0;
  const TrainSummary whole = run_training(config(dir / "whole"), quiet);
  TrainerOptions stop = quiet;
  stop.stop_after = 260;
  CHECK(run_training(config(dir / "split"), stop).interrupted);
  TrainerOptions resume = quiet;
  resume.resume = true;
  const TrainSummary rest = run_training(config(dir / "split"), resume);
  CHECK(rest.iterations_done == kSteps);
  const std::string it = "/point_cloud/iteration_" + std::to_string(kSteps);
  for (const char* file : {"/point_cloud.ply", "/smpl.ply", "/smpl_world_frame000.ply",
                           "/deformable_world_frame000.ply"}) {
    INFO(file);
    const std::string a = gs::test::read_text(dir / "whole" + it + file);
    REQUIRE(!a.empty());
    CHECK(a == gs::test::read_text(dir / "split" + it + file));
  }
  CHECK(rest.test_psnr == Approx(whole.test_psnr).epsilon(1e-9));
}

TEST_CASE("humans: bad pose and template files are refused naming what is wrong",
          "[street][humans]") {
  TempDir dir("humans_bad");
  const std::string scene = make_street(dir);
  const std::string poses = scene + "/humanpose/poses.json";
  const nlohmann::json good = read_json(poses);
  auto refused = [&](const nlohmann::json& doc, const std::string& field) {
    write_json(poses, doc);
    INFO(field);
    try {
      load_street_scene(scene);
      FAIL("loaded");
    } catch (const IoError& e) {
      CHECK(std::string(e.what()).find(field) != std::string::npos);
      CHECK(std::string(e.what()).find("poses.json") != std::string::npos);
    }
  };
  nlohmann::json j = good;
  j["joint_count"] = 23;
  refused(j, "joint_count");
  j = good;
  j["humans"][0]["instance_id"] = 999;
  refused(j, "humans[0].instance_id");
  j = good;
  j["humans"][1]["frames"][2]["body_pose"].erase(0);
  refused(j, "humans[1].frames[2].body_pose");
  j = good;
  j["humans"][0]["frames"][0]["global_orient"] = {0, 0, 0, 0};
  refused(j, "humans[0].frames[0].global_orient");
  write_json(poses, good);
  CHECK(load_street_scene(scene).human_poses.size() == 2);

  // A body template whose tree is not SMPL's, and one with 23 joints.
  nlohmann::json t = {{"format", "gstrain-body-template"}, {"version", 1}, {"joint_count", 24}};
  t["parents"] = std::vector<int>(kSmplParents.begin(), kSmplParents.end());
  t["parents"][13] = 6;
  t["joints"] = std::vector<std::vector<double>>(24, {0, 0, 0});
  t["vertices"] = {{0, 0, 0}};
  t["skin_joints"] = {{0, 1, 2, 3}};
  t["skin_weights"] = {{1, 0, 0, 0}};
  const std::string file = dir / "body.json";
  write_json(file, t);
  CHECK_THROWS_WITH(read_body_template(file), Catch::Contains("parents[13]"));
  t["joint_count"] = 23;
  write_json(file, t);
  CHECK_THROWS_WITH(read_body_template(file), Catch::Contains("joint_count"));

  // Through the command line: exit 2 naming the file.
  j = good;
  j["joint_count"] = 23;
  write_json(poses, j);
  const std::string gstrain = std::string(GSTRAIN_BINARY_DIR) + "/bin/gstrain";
  const gs::test::CommandResult r = gs::test::run_command(
      dir, gstrain + " --config omnire_8gb.yaml --device cpu --no-progress --out '" +
               (dir / "out") + "' --data '" + scene + "'");
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK(r.err.find("poses.json") != std::string::npos);
}

TEST_CASE("humans: the posed template projects onto the humans' masks", "[street][humans]") {
  TempDir dir("humans_masks");
  const std::string scene = make_street(dir);
  Dataset data;
  const Config cfg = humans_config(scene, dir / "out", "skeleton", 10);
  const StreetTraining st = load_street_training(scene, cfg, data);
  const SkeletonHumans h = skeleton_humans(st, data, *cfg.find_node("smpl"), 1);
  size_t projected = 0, on_mask = 0;
  for (size_t view = 0; view < data.train.size(); ++view) {
    const int f = st.train_frame[view];
    const Camera& c = data.train[view].camera;
    const HostMask& mask = st.scene.train_masks[view].dynamic_human;
    if (mask.empty()) continue;
    for (size_t k = 0; k < h.count(); ++k) {
      if (!h.present[size_t(f) * h.count() + k]) continue;
      double pose[kPoseFloats], A[kSkeletonJoints * 12], Q[kSkeletonJoints * 4];
      const float* p = h.poses.data() + (size_t(f) * h.count() + k) * size_t(kPoseFloats);
      for (int i = 0; i < kPoseFloats; ++i) pose[i] = p[i];
      pose_skeleton(h.body, pose, A, Q);
      for (size_t v = 0; v < h.body.size(); ++v) {
        double x[3] = {0, 0, 0};
        for (int i = 0; i < kSkinInfluences; ++i) {
          const double* a = A + 12 * h.body.skin_joints[v][size_t(i)];
          for (int r = 0; r < 3; ++r)
            x[r] += h.body.skin_weights[v][size_t(i)] *
                    (a[4 * r] * h.body.vertices[v][0] + a[4 * r + 1] * h.body.vertices[v][1] +
                     a[4 * r + 2] * h.body.vertices[v][2] + a[4 * r + 3]);
        }
        const float* m = c.world_to_camera;
        const double cx = m[0] * x[0] + m[1] * x[1] + m[2] * x[2] + m[3];
        const double cy = m[4] * x[0] + m[5] * x[1] + m[6] * x[2] + m[7];
        const double cz = m[8] * x[0] + m[9] * x[1] + m[10] * x[2] + m[11];
        if (cz < 0.5) continue;
        const int u = int(c.fx * cx / cz + c.cx), w = int(c.fy * cy / cz + c.cy);
        if (u < 0 || w < 0 || u >= c.width || w >= c.height) continue;
        ++projected;
        on_mask += mask.values[size_t(w) * size_t(c.width) + size_t(u)] >= 128 ? 1 : 0;
      }
    }
  }
  INFO(on_mask << " of " << projected);
  CHECK(projected > 1000);
  CHECK(double(on_mask) >= 0.7 * double(projected));
}
