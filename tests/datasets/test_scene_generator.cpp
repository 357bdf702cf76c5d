// The synthetic-scene generator: files and JSON schema, the exact OpenCV ↔ Blender camera round
// trip, byte-identical determinism per seed, dynamic-scene times and motion, points3d.ply, bad
// options, and the gsgen command line.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "datasets/image_io.h"
#include "datasets/scene_generator.h"
#include "tests/test_support.h"

using namespace gs;
using gs::test::read_json;
using gs::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}


GeneratedSceneOptions small(const std::string& kind = "static", uint64_t seed = 1) {
  GeneratedSceneOptions o;
  o.kind = kind;
  o.views = 6;
  o.test_views = 2;
  o.width = 32;
  o.height = 24;
  o.seed = seed;
  o.points = 300;
  return o;
}

std::array<float, 16> json_matrix(const nlohmann::json& m) {
  std::array<float, 16> out{};
  REQUIRE(m.is_array());
  REQUIRE(m.size() == 4);
  for (int r = 0; r < 4; ++r) {
    REQUIRE(m[r].size() == 4);
    for (int c = 0; c < 4; ++c) out[static_cast<size_t>(r * 4 + c)] = m[r][c].get<float>();
  }
  return out;
}

std::vector<std::string> all_files(const fs::path& root) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), root).string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("generator: writes a NeRF-synthetic dataset with the documented schema", "[gen]") {
  TempDir dir("gen");
  const GeneratedSceneOptions o = small();
  generate_scene((dir / "scene"), o);
  const fs::path root = dir.path() / "scene";
  // Nothing else is left behind (no .tmp files).
  std::vector<std::string> expect = {"points3d.ply", "transforms_test.json", "transforms_train.json"};
  for (int i = 0; i < 6; ++i) expect.push_back("train/r_" + std::to_string(i) + ".png");
  for (int i = 0; i < 2; ++i) expect.push_back("test/r_" + std::to_string(i) + ".png");
  std::sort(expect.begin(), expect.end());
  REQUIRE(all_files(root) == expect);

  for (const std::string split : {"train", "test"}) {
    const nlohmann::json j = read_json((root / ("transforms_" + split + ".json")).string());
    REQUIRE(j.at("camera_angle_x").is_number());
    const double angle = j["camera_angle_x"].get<double>();
    REQUIRE(angle > 0.3);
    REQUIRE(angle < 1.5);
    const nlohmann::json& frames = j.at("frames");
    REQUIRE(frames.size() == (split == "train" ? 6u : 2u));
    for (size_t k = 0; k < frames.size(); ++k) {
      const nlohmann::json& f = frames[k];
      REQUIRE(f.at("file_path") == "./" + split + "/r_" + std::to_string(k));
      REQUIRE_FALSE(f.contains("time"));  // static scenes have no time
      const std::array<float, 16> m = json_matrix(f.at("transform_matrix"));
      CHECK(m[12] == 0.0f);
      CHECK(m[13] == 0.0f);
      CHECK(m[14] == 0.0f);
      CHECK(m[15] == 1.0f);
      // Upper hemisphere: the camera centre is above the ground (world z up).
      CHECK(m[11] > 0.3f);
      const Image img = read_image((root / (split + "/r_" + std::to_string(k) + ".png")).string());
      REQUIRE(img.width == 32);
      REQUIRE(img.height == 24);
      REQUIRE(img.channels == 4);
      int transparent = 0, opaque = 0;
      for (size_t p = 0; p < img.pixels.size(); p += 4) {
        transparent += img.pixels[p + 3] == 0.0f;
        opaque += img.pixels[p + 3] == 1.0f;
        if (img.pixels[p + 3] == 0.0f) REQUIRE(img.pixels[p] == 1.0f);  // white background RGB
      }
      CHECK(transparent > 0);  // sky around the ground disk
      CHECK(opaque > 0);
    }
  }
}

TEST_CASE("generator: the camera round trip through the Blender JSON matrix is exact", "[gen]") {
  TempDir dir("gen");
  const GeneratedSceneOptions o = small();
  generate_scene((dir / "scene"), o);
  const std::vector<GeneratedView> views = generated_views(o);
  REQUIRE(views.size() == 8);
  const synth::Scene scene = synth::build_scene("static", o.seed);
  size_t k = 0;
  for (const std::string split : {"train", "test"}) {
    const nlohmann::json j = read_json(dir / "scene/transforms_" + split + ".json");
    const float fx = static_cast<float>(0.5 * o.width / std::tan(0.5 * j["camera_angle_x"].get<double>()));
    for (const nlohmann::json& f : j["frames"]) {
      const GeneratedView& v = views[k++];
      REQUIRE(v.split == split);
      REQUIRE(v.file_path == f["file_path"].get<std::string>());
      // JSON (Blender c2w) → OpenCV world→camera reproduces the rendered camera bit for bit.
      const std::array<float, 16> c2w = json_matrix(f["transform_matrix"]);
      Camera back = v.camera;
      std::fill(std::begin(back.world_to_camera), std::end(back.world_to_camera), -7.0f);
      synth::set_camera_from_blender_c2w(back, c2w);
      REQUIRE(std::memcmp(back.world_to_camera, v.camera.world_to_camera, sizeof(float) * 16) == 0);
      // And the other way: the rotation comes back exactly, the centre to float precision.
      const std::array<float, 16> again = synth::blender_c2w_from_camera(v.camera);
      for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) REQUIRE(again[r * 4 + c] == c2w[r * 4 + c]);
        REQUIRE(again[r * 4 + 3] == Approx(c2w[r * 4 + 3]).margin(1e-5));
      }
      // Intrinsics agree with camera_angle_x and a centred principal point.
      CHECK(v.camera.fx == Approx(fx).epsilon(1e-6));
      CHECK(v.camera.fy == v.camera.fx);
      CHECK(v.camera.cx == 16.0f);
      CHECK(v.camera.cy == 12.0f);
      // Cameras look at the scene centre: it projects to the principal point.
      const float* m = v.camera.world_to_camera;
      const synth::Vec3 p = scene.look_at;
      const float x = m[0] * p.x + m[1] * p.y + m[2] * p.z + m[3];
      const float y = m[4] * p.x + m[5] * p.y + m[6] * p.z + m[7];
      const float z = m[8] * p.x + m[9] * p.y + m[10] * p.z + m[11];
      REQUIRE(z > 1.0f);
      CHECK(v.camera.fx * x / z == Approx(0).margin(1e-3));
      CHECK(v.camera.fy * y / z == Approx(0).margin(1e-3));
      // Blender's camera y axis (column 1) points up in the world, as for an upright camera.
      CHECK(c2w[2 * 4 + 1] > 0);
    }
  }
  // Test cameras are distinct from every training camera.
  for (const GeneratedView& t : views) {
    if (t.split != "test") continue;
    const auto ct = camera_center(t.camera);
    for (const GeneratedView& v : views) {
      if (v.split != "train") continue;
      const auto cv = camera_center(v.camera);
      const float d = std::hypot(ct[0] - cv[0], ct[1] - cv[1], ct[2] - cv[2]);
      CHECK(d > 0.05f);
    }
  }
}

TEST_CASE("generator: same seed gives byte-identical files, another seed differs", "[gen]") {
  TempDir dir("gen");
  generate_scene((dir / "a"), small("static", 3));
  generate_scene((dir / "b"), small("static", 3));
  generate_scene((dir / "c"), small("static", 4));
  const std::vector<std::string> files = all_files(dir.path() / "a");
  REQUIRE(files == all_files(dir.path() / "b"));
  for (const std::string& f : files) {
    INFO(f);
    REQUIRE(read_bytes(dir / "a/" + f) == read_bytes(dir / "b/" + f));
  }
  int differing_images = 0;
  for (const std::string& f : files)
    if (f.size() > 4 && f.substr(f.size() - 4) == ".png")
      differing_images += read_bytes(dir / "a/" + f) != read_bytes(dir / "c/" + f);
  CHECK(differing_images == 8);
  CHECK(read_bytes(dir / "a/points3d.ply") != read_bytes(dir / "c/points3d.ply"));
}

TEST_CASE("generator: dynamic frames have increasing times and the scene moves", "[gen]") {
  TempDir dir("gen");
  GeneratedSceneOptions o = small("dynamic");
  o.views = 9;
  o.test_views = 3;
  generate_scene((dir / "dyn"), o);
  std::set<double> all_times;
  for (const std::string split : {"train", "test"}) {
    const nlohmann::json j = read_json(dir / "dyn/transforms_" + split + ".json");
    double previous = -1;
    for (const nlohmann::json& f : j["frames"]) {
      REQUIRE(f.contains("time"));
      const double t = f["time"].get<double>();
      CHECK(t >= 0.0);
      CHECK(t <= 1.0);
      CHECK(t > previous);  // monocular video: time increases with the view index
      previous = t;
      all_times.insert(t);
    }
  }
  CHECK(all_times.size() == 12);  // test times interleave with, and differ from, train times
  CHECK(*all_times.begin() == 0.0);
  CHECK(*all_times.rbegin() == 1.0);

  // The same camera at different times sees different images (moving and deforming objects);
  // in the static scene time changes nothing.
  const std::vector<GeneratedView> views = generated_views(o);
  const Camera& cam = views[3].camera;
  synth::MeshRenderOptions ro;
  for (const std::string kind : {"dynamic", "static"}) {
    const synth::Scene scene = synth::build_scene(kind, 1);
    std::vector<synth::Mesh> storage;
    const synth::MeshRenderResult a =
        synth::render_meshes(synth::scene_instances(scene, 0.2, storage), scene.textures, cam, ro);
    const synth::MeshRenderResult b =
        synth::render_meshes(synth::scene_instances(scene, 0.7, storage), scene.textures, cam, ro);
    double diff = 0;
    for (size_t p = 0; p < a.rgba.size(); ++p) diff += std::abs(a.rgba[p] - b.rgba[p]);
    diff /= static_cast<double>(a.rgba.size());
    INFO(kind << " mean abs difference " << diff);
    if (kind == "dynamic")
      CHECK(diff > 0.01);
    else
      CHECK(diff == 0.0);
  }
}

TEST_CASE("generator: the dynamic scene deforms objects non-rigidly", "[gen]") {
  const synth::Scene scene = synth::build_scene("dynamic", 1);
  std::vector<synth::Mesh> s0, s1;
  const auto a = synth::scene_instances(scene, 0.1, s0);
  const auto b = synth::scene_instances(scene, 0.15, s1);
  REQUIRE(a.size() == scene.objects.size());
  bool deformed = false;
  for (size_t i = 0; i < scene.objects.size(); ++i) {
    if (!scene.objects[i].deform) continue;
    // Same object, different time: object-space vertices moved relative to each other.
    const synth::Mesh& m0 = *a[i].mesh;
    const synth::Mesh& m1 = *b[i].mesh;
    REQUIRE(m0.vertices.size() == m1.vertices.size());
    const auto d = [](const synth::Mesh& m, size_t i, size_t j) {
      const synth::Vec3 v = m.vertices[i].position - m.vertices[j].position;
      return std::sqrt(synth::dot(v, v));
    };
    const size_t last = m0.vertices.size() - 1;
    if (std::abs(d(m0, 0, last) - d(m1, 0, last)) > 1e-3f) deformed = true;
    for (const synth::MeshVertex& v : m1.vertices)
      REQUIRE(std::sqrt(synth::dot(v.normal, v.normal)) == Approx(1.0f).epsilon(1e-4));
  }
  CHECK(deformed);
}

TEST_CASE("generator: points3d.ply holds surface samples with colours", "[gen]") {
  TempDir dir("gen");
  const GeneratedSceneOptions o = small();
  generate_scene((dir / "scene"), o);
  const std::string bytes = read_bytes(dir / "scene/points3d.ply");
  const size_t end = bytes.find("end_header\n");
  REQUIRE(end != std::string::npos);
  const std::string header = bytes.substr(0, end);
  REQUIRE(header.rfind("ply\nformat binary_little_endian 1.0\n", 0) == 0);
  REQUIRE(header.find("element vertex 300\n") != std::string::npos);
  for (const char* prop : {"property float x\n", "property float nz\n", "property uchar red\n",
                           "property uchar blue\n"})
    REQUIRE(header.find(prop) != std::string::npos);
  const size_t body = end + std::strlen("end_header\n");
  constexpr size_t kStride = 6 * 4 + 3;
  REQUIRE(bytes.size() == body + 300 * kStride);
  int colourful = 0;
  for (size_t k = 0; k < 300; ++k) {
    float v[6];
    std::memcpy(v, bytes.data() + body + k * kStride, sizeof(v));
    const double radius = std::hypot(v[0], v[1]);
    CHECK(radius <= 1.0001);    // on the ground disk or the objects on it
    CHECK(v[2] >= -1e-4f);      // nothing below the ground
    CHECK(v[2] <= 1.2f);
    CHECK(std::hypot(v[3], v[4], v[5]) == Approx(1.0).epsilon(1e-3));
    const auto* rgb = reinterpret_cast<const unsigned char*>(bytes.data() + body + k * kStride + 24);
    colourful += std::max({rgb[0], rgb[1], rgb[2]}) - std::min({rgb[0], rgb[1], rgb[2]}) > 40;
  }
  CHECK(colourful > 100);
}

TEST_CASE("generator: invalid options and unusable output paths are refused", "[gen]") {
  TempDir dir("gen");
  GeneratedSceneOptions o = small();
  o.kind = "street";
  REQUIRE_THROWS_AS(generate_scene((dir / "x"), o), ConfigError);
  o = small();
  o.views = 0;
  REQUIRE_THROWS_WITH(generate_scene((dir / "x"), o), Catch::Contains("views"));
  o = small();
  o.width = 4;
  REQUIRE_THROWS_AS(generate_scene((dir / "x"), o), ConfigError);
  o = small();
  o.supersample = 3;
  REQUIRE_THROWS_AS(generate_scene((dir / "x"), o), ConfigError);
  REQUIRE_FALSE(fs::exists(dir / "x"));  // nothing written for bad options
  std::ofstream(dir / "file") << "not a directory";
  REQUIRE_THROWS_AS(generate_scene((dir / "file"), small()), IoError);
}

TEST_CASE("gsgen: exit codes and output", "[gen]") {
  const std::string exe = std::string(GSTRAIN_BINARY_DIR) + "/bin/gsgen";
  if (!fs::exists(exe)) {
    WARN("gsgen is not built; skipping its command-line test");
    return;
  }
  TempDir dir("gen");
  auto run = [&](const std::string& args) {
    const std::string cmd = "'" + exe + "' " + args + " >'" + (dir / "log") + "' 2>&1";
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  };
  CHECK(run("--help") == 0);
  CHECK(run("") == 2);                                     // --out missing
  CHECK(run("--out '" + (dir / "o") + "' --views x") == 2);  // not a number
  CHECK(run("--out '" + (dir / "o") + "' --views 0") == 2);
  CHECK(run("--out '" + (dir / "o") + "' --bogus") == 2);
  CHECK(read_bytes(dir / "log").find("unknown argument") != std::string::npos);
  std::ofstream(dir / "file") << "x";
  CHECK(run("--out '" + (dir / "file") + "' --views 2 --test-views 1 --width 16 --height 16") == 1);
  CHECK(run("--out '" + (dir / "o") + "' --kind dynamic --views 3 --test-views 1 --width 16 "
            "--height 16 --seed 5 --black-background --points 10") == 0);
  const nlohmann::json j = read_json(dir / "o/transforms_train.json");
  CHECK(j["frames"].size() == 3);
  CHECK(j["frames"][0].contains("time"));
  const Image img = read_image(dir / "o/test/r_0.png");
  CHECK(img.width == 16);
}
