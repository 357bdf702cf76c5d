// gsgen --kind street: option validation, byte-identical output whatever the thread count, the
// files of drivestudio's layout, LiDAR geometry (road points on the road plane, vehicle boxes
// holding points), actors inside their boxes and moving, masks where objects and sky are, the
// round trip through load_street_scene, and the command line.
#include <omp.h>
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "datasets/image_io.h"
#include "datasets/street_builder.h"
#include "datasets/street_generator.h"
#include "datasets/street_scene.h"
#include "tests/test_support.h"

using namespace gs;
using gs::test::read_text;
using gs::test::TempDir;
namespace fs = std::filesystem;

namespace {

// Small enough for a test (a second or two), big enough to see every actor.
StreetGeneratorOptions tiny(uint64_t seed = 1) {
  StreetGeneratorOptions o;
  o.frames = 12;  // the oncoming car enters the LiDAR's range at about frame 8
  o.width = 96;
  o.height = 64;
  o.lidar_beams = 16;
  o.lidar_azimuths = 256;
  o.seed = seed;
  return o;
}

// One generated scene shared by the read-only tests.
const TempDir& shared_scene() {
  static TempDir dir("street_gen");
  static bool generated = false;
  if (!generated) {
    generate_street_scene(dir / "scene", tiny());
    generated = true;
  }
  return dir;
}
std::string scene_path(const std::string& rel) {
  return shared_scene() / ("scene/" + rel);
}

std::string frame_name(int t) {
  char b[16];
  std::snprintf(b, sizeof(b), "%03d", t);
  return b;
}

std::vector<double> read_numbers(const std::string& path) {
  std::istringstream in(read_text(path));
  std::vector<double> v;
  double x;
  while (in >> x) v.push_back(x);
  return v;
}

synth::Mat4 read_matrix(const std::string& path) {
  const std::vector<double> v = read_numbers(path);
  REQUIRE(v.size() == 16);
  synth::Mat4 m;
  for (int i = 0; i < 16; ++i) m.m[i] = static_cast<float>(v[static_cast<size_t>(i)]);
  return m;
}

synth::Mat4 json_matrix(const nlohmann::json& rows) {
  synth::Mat4 m;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) m.m[r * 4 + c] = rows[r][c].get<float>();
  return m;
}

std::vector<float> read_lidar(const std::string& path) {
  const std::string bytes = read_text(path);
  REQUIRE(bytes.size() % (14 * sizeof(float)) == 0);
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

synth::Mat4 road_to_world(const StreetGeneratorOptions& o) {
  synth::Mat4 m;
  const StreetLayout layout = street_layout(o);
  std::copy(layout.road_to_world.begin(), layout.road_to_world.end(), m.m);
  return m;
}

// Fraction of 255 pixels of a mask PNG in rows [row0, row1).
double mask_fraction(const std::string& path, int row0 = 0, int row1 = -1) {
  const Image img = read_image(path);
  if (row1 < 0) row1 = img.height;
  size_t on = 0, total = 0;
  for (int j = row0; j < row1; ++j)
    for (int i = 0; i < img.width; ++i, ++total)
      on += img.pixels[(static_cast<size_t>(j) * img.width + i) * img.channels] > 0.5f;
  return total ? static_cast<double>(on) / total : 0.0;
}

std::vector<std::string> all_files(const fs::path& root) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), root).string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("street generator: invalid options are refused, naming the option", "[street]") {
  auto refused = [](void (*edit)(StreetGeneratorOptions&), const std::string& word) {
    StreetGeneratorOptions o = tiny();
    edit(o);
    REQUIRE_THROWS_AS(validate_street_generator_options(o), ConfigError);
    REQUIRE_THROWS_WITH(validate_street_generator_options(o), Catch::Contains(word));
  };
  refused([](StreetGeneratorOptions& o) { o.frames = 1; }, "frames");
  refused([](StreetGeneratorOptions& o) { o.width = 8; }, "width");
  refused([](StreetGeneratorOptions& o) { o.height = 5000; }, "height");
  refused([](StreetGeneratorOptions& o) { o.cameras = {}; }, "cameras");
  refused([](StreetGeneratorOptions& o) { o.cameras = {0, 7}; }, "cameras: id 7");
  refused([](StreetGeneratorOptions& o) { o.cameras = {1, 1}; }, "twice");
  refused([](StreetGeneratorOptions& o) { o.vehicles = 6; }, "vehicles");
  refused([](StreetGeneratorOptions& o) { o.people = -1; }, "people");
  refused([](StreetGeneratorOptions& o) { o.supersample = 3; }, "supersample");
  refused([](StreetGeneratorOptions& o) { o.lidar_beams = 0; }, "lidar_beams");
  refused([](StreetGeneratorOptions& o) { o.lidar_azimuths = 100; }, "lidar_azimuths");
  refused([](StreetGeneratorOptions& o) { o.jpeg_quality = 0; }, "jpeg_quality");
  refused([](StreetGeneratorOptions& o) { o.size = "huge"; }, "size");
  REQUIRE_THROWS_WITH(street_generator_preset("medium"), Catch::Contains("size"));
  CHECK(street_generator_preset("large").width == 960);
  CHECK_NOTHROW(validate_street_generator_options(street_generator_preset("small")));
  CHECK_NOTHROW(validate_street_generator_options(street_generator_preset("large")));

  TempDir dir("street_bad");
  StreetGeneratorOptions bad = tiny();
  bad.frames = 0;
  REQUIRE_THROWS_AS(generate_street_scene(dir / "out", bad), ConfigError);
  CHECK_FALSE(fs::exists(dir / "out"));  // nothing written for a refused run
  std::ofstream(dir / "file") << "x";
  REQUIRE_THROWS_AS(generate_street_scene(dir / "file", tiny()), IoError);
}

TEST_CASE("street generator: same options give byte-identical files at any thread count",
          "[street]") {
  TempDir dir("street_det");
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  generate_street_scene(dir / "one_thread", tiny());
  omp_set_num_threads(std::max(2, threads));
  generate_street_scene(dir / "again", tiny());
  omp_set_num_threads(threads);
  const std::vector<std::string> files = all_files(dir / "one_thread");
  REQUIRE(files == all_files(dir / "again"));
  REQUIRE(files == all_files(shared_scene() / "scene"));
  for (const std::string& f : files) {
    INFO(f);
    REQUIRE(read_text(dir / ("one_thread/" + f)) == read_text(dir / ("again/" + f)));
  }
  generate_street_scene(dir / "other_seed", tiny(2));
  CHECK(read_text(dir / "other_seed/images/000_0.jpg") !=
        read_text(dir / "one_thread/images/000_0.jpg"));
}

TEST_CASE("street generator: writes every file of drivestudio's layout", "[street]") {
  const StreetGeneratorOptions o = tiny();
  for (int cam : o.cameras) {
    const std::vector<double> k =
        read_numbers(scene_path("intrinsics/" + std::to_string(cam) + ".txt"));
    REQUIRE(k.size() == 9);
    CHECK(k[0] > 0);
    CHECK(k[2] == Approx(o.width / 2.0));
    CHECK(k[3] == Approx(o.height / 2.0));
    for (size_t d = 4; d < 9; ++d) CHECK(k[d] == 0);
    const synth::Mat4 e = read_matrix(scene_path("extrinsics/" + std::to_string(cam) + ".txt"));
    CHECK(e.m[11] == Approx(1.8f));  // mounted at 1.8 m
  }
  // Front-left looks left (Waymo camera x = forward has a +y component in the vehicle frame).
  CHECK(read_matrix(scene_path("extrinsics/1.txt")).m[4] > 0.6f);
  CHECK(read_matrix(scene_path("extrinsics/2.txt")).m[4] < -0.6f);
  for (int t = 0; t < o.frames; ++t) {
    const std::string f = frame_name(t);
    CHECK(read_numbers(scene_path("ego_pose/" + f + ".txt")).size() == 16);
    CHECK(fs::file_size(scene_path("lidar/" + f + ".bin")) % 56 == 0);
    for (int cam : o.cameras) {
      const std::string stem = f + "_" + std::to_string(cam);
      const Image img = read_image(scene_path("images/" + stem + ".jpg"));
      CHECK(img.width == o.width);
      CHECK(img.height == o.height);
      for (const char* mask :
           {"sky_masks/", "dynamic_masks/all/", "dynamic_masks/human/", "dynamic_masks/vehicle/"})
        CHECK(read_image(scene_path(std::string(mask) + stem + ".png")).width == o.width);
    }
  }
  // The first ego pose is not the identity: loaders must re-base the world on it.
  const synth::Mat4 ego0 = read_matrix(scene_path("ego_pose/000.txt"));
  CHECK(std::abs(ego0.m[3]) + std::abs(ego0.m[7]) > 1);
  CHECK(std::abs(ego0.m[1]) > 0.1f);

  const nlohmann::json info =
      nlohmann::json::parse(read_text(scene_path("instances/instances_info.json")));
  const nlohmann::json per_frame =
      nlohmann::json::parse(read_text(scene_path("instances/frame_instances.json")));
  REQUIRE(info.size() == static_cast<size_t>(o.vehicles + o.people));
  REQUIRE(per_frame.size() == static_cast<size_t>(o.frames));
  int vehicles = 0, people = 0;
  for (const auto& [key, inst] : info.items()) {
    const std::string cls = inst["class_name"];
    vehicles += cls == "Vehicle";
    people += cls == "Pedestrian";
    const nlohmann::json& a = inst["frame_annotations"];
    REQUIRE(a["frame_idx"].size() == a["obj_to_world"].size());
    REQUIRE(a["frame_idx"].size() == a["box_size"].size());
    for (const auto& t : a["frame_idx"]) {
      const auto& listed = per_frame[std::to_string(t.get<int>())];
      CHECK(std::find(listed.begin(), listed.end(), std::stoi(key)) != listed.end());
    }
  }
  CHECK(vehicles == o.vehicles);
  CHECK(people == o.people);
  // Poses for every walker but the last unposed_people, each for Pedestrian instances only.
  const nlohmann::json poses =
      nlohmann::json::parse(read_text(scene_path("humanpose/poses.json")));
  CHECK(poses["joint_count"] == 24);
  REQUIRE(poses["humans"].size() == static_cast<size_t>(o.people - o.unposed_people));
  for (const auto& h : poses["humans"]) {
    CHECK(info[std::to_string(h["instance_id"].get<int>())]["class_name"] == "Pedestrian");
    CHECK(h["frames"].size() > 0);
    CHECK(h["frames"][0]["body_pose"].size() == 23);
  }
  // The oncoming car is annotated only once it is within the LiDAR's range.
  CHECK(per_frame["0"].size() < info.size());
  CHECK(per_frame[std::to_string(o.frames - 1)].size() == info.size());
}

TEST_CASE("street generator: road LiDAR points lie on the road plane in the world", "[street]") {
  const StreetGeneratorOptions o = tiny();
  const StreetLayout layout = street_layout(o);
  const synth::Mat4 world_to_road = synth::rigid_inverse(road_to_world(o));
  size_t road = 0, sidewalk = 0, total = 0;
  for (int t = 0; t < o.frames; ++t) {
    const synth::Mat4 ego = read_matrix(scene_path("ego_pose/" + frame_name(t) + ".txt"));
    const std::vector<float> rows = read_lidar(scene_path("lidar/" + frame_name(t) + ".bin"));
    const size_t n = rows.size() / 14;
    total += n;
    for (size_t k = 0; k < n; ++k) {
      const float* r = &rows[k * 14];
      CHECK(r[0] == synth::kLidarSensorInVehicle.x);
      const float range = std::hypot(r[3] - r[0], r[4] - r[1], r[5] - r[2]);
      CHECK(range <= synth::kLidarMaxRange + 1e-3f);
      if (r[10] != 1.0f) continue;  // ground flag
      const synth::Vec3 p = world_to_road.transform_point(ego.transform_point({r[3], r[4], r[5]}));
      if (std::abs(p.y) < layout.road_half_width - 0.05f) {
        ++road;
        REQUIRE(std::abs(p.z) < 0.02f);  // asphalt at 0, paint 1 cm above
      } else if (std::abs(p.y) > layout.road_half_width + 0.05f) {
        ++sidewalk;
        REQUIRE(std::abs(p.z - layout.curb_height) < 0.01f);
      }
    }
  }
  CHECK(total > 1000);
  CHECK(road > 300);
  CHECK(sidewalk > 100);
}

TEST_CASE("street generator: near vehicles hold LiDAR points; vehicles move", "[street]") {
  const StreetGeneratorOptions o = tiny();
  const nlohmann::json info =
      nlohmann::json::parse(read_text(scene_path("instances/instances_info.json")));
  int moving = 0, checked = 0;
  for (const auto& [key, inst] : info.items()) {
    if (inst["class_name"] != "Vehicle") continue;
    const nlohmann::json& a = inst["frame_annotations"];
    const size_t n = a["frame_idx"].size();
    REQUIRE(n > 0);
    const synth::Mat4 first = json_matrix(a["obj_to_world"][0]),
                      last = json_matrix(a["obj_to_world"][n - 1]);
    moving += std::hypot(last.m[3] - first.m[3], last.m[7] - first.m[7]) > 1.0f;
    for (size_t e = 0; e < n; ++e) {
      const int t = a["frame_idx"][e];
      const synth::Mat4 box_to_world = json_matrix(a["obj_to_world"][e]);
      const synth::Mat4 ego = read_matrix(scene_path("ego_pose/" + frame_name(t) + ".txt"));
      const synth::Mat4 vehicle_to_box = synth::rigid_inverse(box_to_world) * ego;
      const synth::Vec3 centre = synth::rigid_inverse(ego).transform_point(
          {box_to_world.m[3], box_to_world.m[7], box_to_world.m[11]});
      if (std::hypot(centre.x, centre.y) > 25) continue;
      const std::vector<float> rows = read_lidar(scene_path("lidar/" + frame_name(t) + ".bin"));
      int inside = 0;
      for (size_t k = 0; k < rows.size() / 14; ++k) {
        const synth::Vec3 p =
            vehicle_to_box.transform_point({rows[k * 14 + 3], rows[k * 14 + 4], rows[k * 14 + 5]});
        inside += std::abs(p.x) <= a["box_size"][e][0].get<float>() / 2 + 0.02f &&
                  std::abs(p.y) <= a["box_size"][e][1].get<float>() / 2 + 0.02f &&
                  std::abs(p.z) <= a["box_size"][e][2].get<float>() / 2 + 0.02f;
      }
      INFO("instance " << key << " frame " << t << " at " << centre.x << ", " << centre.y);
      CHECK(inside >= 5);
      ++checked;
    }
  }
  CHECK(checked >= o.frames);       // most vehicles are near in most frames
  CHECK(moving >= o.vehicles - 1);  // one may be parked
}

TEST_CASE("street generator: actors stay inside their boxes and walk or drive", "[street]") {
  const synth::StreetWorld world = synth::build_street_world(tiny());
  REQUIRE(world.actors.size() == 7u);  // 4 vehicles, 3 walkers
  std::vector<synth::Mesh> storage;
  for (double t : {0.0, 0.13, 0.5, 1.21, 2.0, 3.7}) {
    const std::vector<synth::MeshInstance> instances = synth::street_instances(world, t, storage);
    for (const synth::StreetActor& actor : world.actors) {
      const synth::Mat4 road_to_box = synth::rigid_inverse(actor.box_to_road(t));
      size_t vertices = 0;
      for (const synth::MeshInstance& inst : instances) {
        if (inst.label != synth::kFirstActorLabel + actor.id) continue;
        for (const synth::MeshVertex& v : inst.mesh->vertices) {
          const synth::Vec3 p =
              road_to_box.transform_point(inst.object_to_world.transform_point(v.position));
          INFO("actor " << actor.id << " t " << t << " vertex " << p.x << " " << p.y << " " << p.z);
          REQUIRE(std::abs(p.x) <= actor.box_size.x / 2 + 1e-3f);
          REQUIRE(std::abs(p.y) <= actor.box_size.y / 2 + 1e-3f);
          REQUIRE(std::abs(p.z) <= actor.box_size.z / 2 + 1e-3f);
          ++vertices;
        }
      }
      CHECK(vertices > 50);
    }
  }
  // The people's limbs move relative to their box (articulation, not a rigid statue).
  for (const synth::StreetActor& actor : world.actors) {
    if (actor.vehicle) continue;
    auto local_foot = [&](double t) {
      const std::vector<synth::MeshInstance> instances = synth::street_instances(world, t, storage);
      const synth::Mat4 road_to_box = synth::rigid_inverse(actor.box_to_road(t));
      for (size_t k = 0; k < instances.size(); ++k)
        if (instances[k].label == synth::kFirstActorLabel + actor.id &&
            world.scene.objects[k].name == "foot")
          return road_to_box.transform_point(
              instances[k].object_to_world.transform_point({0, 0, 0}));
      return synth::Vec3{};
    };
    // Over half a gait cycle the foot swings forward and back along the box's x.
    const synth::Vec3 a = local_foot(0.0);
    float swing = 0;
    for (double t : {0.1, 0.2, 0.3, 0.4, 0.5}) swing = std::max(swing, std::abs(local_foot(t).x - a.x));
    CHECK(swing > 0.1f);
  }
}

TEST_CASE("street generator: dynamic masks cover moving objects, sky masks the sky", "[street]") {
  const StreetGeneratorOptions o = tiny();
  double human = 0;
  for (int t = 0; t < o.frames; ++t) {
    const std::string stem = frame_name(t) + "_0";
    INFO(stem);
    // The car ahead in the ego lane is always in the front camera.
    const double vehicle = mask_fraction(scene_path("dynamic_masks/vehicle/" + stem + ".png"));
    CHECK(vehicle > 0.002);
    CHECK(mask_fraction(scene_path("dynamic_masks/all/" + stem + ".png")) >= vehicle);
    // Sky at the top of the front image, none at the bottom (the road).
    CHECK(mask_fraction(scene_path("sky_masks/" + stem + ".png"), 0, 4) > 0.1);
    CHECK(mask_fraction(scene_path("sky_masks/" + stem + ".png"), o.height - 4, o.height) == 0);
    for (int cam : o.cameras)
      human += mask_fraction(
          scene_path("dynamic_masks/human/" + frame_name(t) + "_" + std::to_string(cam) + ".png"));
  }
  CHECK(human > 0);
}

TEST_CASE("street generator: round trip through load_street_scene", "[street]") {
  const StreetGeneratorOptions o = tiny();
  StreetOptions so;
  so.test_every = 0;
  const StreetScene scene = load_street_scene(shared_scene() / "scene", so);
  REQUIRE(scene.frames == o.frames);
  REQUIRE(scene.train.size() == static_cast<size_t>(o.frames) * o.cameras.size());
  REQUIRE(scene.train_masks.size() == scene.train.size());
  REQUIRE(scene.instances.size() == static_cast<size_t>(o.vehicles + o.people));
  // The world is the first ego frame: the ego starts at the origin.
  CHECK(scene.ego_to_world[0][3] == Approx(0).margin(1e-4));
  int hits = 0, tried = 0;
  for (const StreetInstance& inst : scene.instances) {
    if (inst.cls != InstanceClass::vehicle) continue;
    // Parked vehicles are not in the dynamic masks (drivestudio's 1 m/s threshold).
    int first = -1, last = -1;
    for (int f = 0; f < scene.frames; ++f)
      if (inst.present[static_cast<size_t>(f)]) (first < 0 ? first : last) = f;
    if (first < 0 || last < 0) continue;
    const auto &a = inst.box_to_world[static_cast<size_t>(first)],
               &b = inst.box_to_world[static_cast<size_t>(last)];
    if (std::hypot(a[3] - b[3], a[7] - b[7]) < 0.1 * (last - first)) continue;
    for (size_t v = 0; v < scene.train.size(); ++v) {
      const StreetView& view = scene.train[v];
      if (!inst.present[static_cast<size_t>(view.frame)]) continue;
      const auto& m = inst.box_to_world[static_cast<size_t>(view.frame)];
      const Camera& cam = view.view.camera;
      const float* w = cam.world_to_camera;
      const float x = m[3], y = m[7], z = m[11];
      const float cx = w[0] * x + w[1] * y + w[2] * z + w[3],
                  cy = w[4] * x + w[5] * y + w[6] * z + w[7],
                  cz = w[8] * x + w[9] * y + w[10] * z + w[11];
      if (cz < 2 || cz > 40) continue;
      const int i = static_cast<int>(std::floor(cam.fx * cx / cz + cam.cx));
      const int j = static_cast<int>(std::floor(cam.fy * cy / cz + cam.cy));
      if (i < 2 || j < 2 || i >= cam.width - 2 || j >= cam.height - 2) continue;
      const HostMask& mask = scene.train_masks[v].dynamic_vehicle;
      REQUIRE_FALSE(mask.empty());
      const HostMask& sky = scene.train_masks[v].sky;
      CHECK(sky.values[static_cast<size_t>(j) * sky.width + i] == 0);
      ++tried;
      // The centre of a moving vehicle may be hidden behind another one, so most (not all)
      // centres must fall on the mask.
      UNSCOPED_INFO("instance " << inst.id << " view " << v << " pixel " << i << "," << j
                                << " mask "
                                << int(mask.values[static_cast<size_t>(j) * mask.width + i]));
      hits += mask.values[static_cast<size_t>(j) * mask.width + i] == 255;
    }
  }
  INFO(hits << " of " << tried << " projected vehicle centres on the vehicle mask");
  CHECK(tried >= o.frames);
  CHECK(hits >= tried * 3 / 4);
}

TEST_CASE("street generator: a shorter run over a longer one leaves no stale frames",
          "[street]") {
  TempDir dir("street_stale");
  StreetGeneratorOptions o = tiny();
  o.width = 32;
  o.height = 24;
  o.lidar_beams = 4;
  o.lidar_azimuths = 64;
  o.frames = 4;
  generate_street_scene(dir / "s", o);
  std::ofstream(dir / "s/images/notes.txt") << "kept";
  o.frames = 2;
  generate_street_scene(dir / "s", o);
  CHECK(count_street_frames(dir / "s") == 2);
  CHECK_FALSE(fs::exists(dir / "s/images/002_0.jpg"));
  CHECK_FALSE(fs::exists(dir / "s/lidar/003.bin"));
  CHECK_FALSE(fs::exists(dir / "s/dynamic_masks/all/003_2.png"));
  CHECK(fs::exists(dir / "s/images/001_2.jpg"));
  CHECK(fs::exists(dir / "s/images/notes.txt"));  // only frame files are removed
}

TEST_CASE("gsgen --kind street: options and exit codes", "[street]") {
  const std::string exe = std::string(GSTRAIN_BINARY_DIR) + "/bin/gsgen";
  if (!fs::exists(exe)) {
    WARN("gsgen is not built; skipping its command-line test");
    return;
  }
  TempDir dir("street_cli");
  auto run = [&](const std::string& args) {
    const std::string cmd = "'" + exe + "' " + args + " >'" + (dir / "log") + "' 2>&1";
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  };
  const std::string out = " --out '" + (dir / "s") + "'";
  CHECK(run("--kind street --views 3" + out) == 2);
  CHECK(read_text(dir / "log").find("--views") != std::string::npos);
  CHECK(run("--frames 3" + out) == 2);  // a street option without --kind street
  CHECK(run("--kind street --cameras 0,9" + out) == 2);
  CHECK(read_text(dir / "log").find("cameras") != std::string::npos);
  CHECK(run("--kind street --size huge" + out) == 2);
  CHECK(run("--kind street --frames 2 --width 32 --height 24 --cameras 0,3 --vehicles 3 "
            "--people 1 --lidar-beams 4 --lidar-azimuths 64 --seed 9" +
            out) == 0);
  CHECK(read_image(dir / "s/images/001_3.jpg").width == 32);
  CHECK(fs::exists(dir / "s/dynamic_masks/vehicle/000_0.png"));
  CHECK(!fs::exists(dir / "s/images/000_1.jpg"));
}
