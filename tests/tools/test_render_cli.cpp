// gsrender and bench_render as users run them: exit codes (2 usage, 1 runtime), error messages
// that name the bad file, no output for bad input, and a tiny end-to-end render on the CPU.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "datasets/cameras_json.h"
#include "datasets/image_io.h"
#include "core/camera.h"
#include "scene/gaussian_cloud.h"
#include "formats/ply_io.h"
#include "tests/test_support.h"

using namespace gs;
using gs::test::CommandResult;
using gs::test::run_command;
using gs::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string tool(const std::string& name) {
  return std::string(GSTRAIN_BINARY_DIR) + "/bin/" + name;
}

// Runs `exe args`, stdout/stderr captured in `dir`.
CommandResult run(const TempDir& dir, const std::string& exe, const std::string& args) {
  return run_command(dir, "'" + exe + "' " + args);
}

std::string q(const std::string& s) { return "'" + s + "'"; }

// Two opaque Gaussians, red on the left and green on the right, 4 units in front of a camera at
// the origin looking down +z, plus the camera file.
void write_scene(const TempDir& dir) {
  GaussianCloud c;
  c.resize(2, 0);
  const float sh_c0 = 0.28209479f;
  for (int i = 0; i < 2; ++i) {
    c.means[i * 3 + 0] = i == 0 ? -0.5f : 0.5f;
    c.means[i * 3 + 2] = 4.f;
    for (int a = 0; a < 3; ++a) c.log_scales[i * 3 + a] = std::log(0.2f);
    c.quats[i * 4] = 1.f;
    c.opacity_logits[i] = 6.f;
    c.sh[i * 3 + 0] = (i == 0 ? 0.5f : -0.5f) / sh_c0;  // colour = SH·C0 + 0.5
    c.sh[i * 3 + 1] = (i == 0 ? -0.5f : 0.5f) / sh_c0;
    c.sh[i * 3 + 2] = -0.5f / sh_c0;
  }
  write_ply((dir / "scene.ply"), c);
  Camera cam;
  cam.name = "front view";
  cam.width = 64;
  cam.height = 48;
  cam.fx = cam.fy = 60.f;
  cam.cx = 32.f;
  cam.cy = 24.f;
  write_cameras_json((dir / "cams.json"), {cam});
}

}  // namespace

TEST_CASE("gsrender: usage errors exit 2, runtime errors exit 1 naming the file", "[io][cli]") {
  const std::string exe = tool("gsrender");
  if (!fs::exists(exe)) {
    GS_SKIP(exe << " is not built");
    return;
  }
  TempDir dir("render_cli");
  write_scene(dir);
  const std::string ply = dir / "scene.ply", cams = dir / "cams.json";
  const std::string out = dir / "out";
  const std::string good = "--ply " + q(ply) + " --cameras " + q(cams) + " --out " + q(out);

  SECTION("--help") {
    const CommandResult r = run(dir, exe, "--help");
    CHECK(r.code == 0);
    CHECK(r.out.find("usage: gsrender") != std::string::npos);
  }
  SECTION("usage errors") {
    for (const std::string& args : std::vector<std::string>{
             "", "--ply " + q(ply), good + " --frobnicate", good + " --background 1,2",
          good + " --background red", good + " --background 0,0,2", good + " --sh-degree 4",
          good + " --sh-degree x", good + " --device tpu", good + " --antialias=1",
          good + " --ply " + q(ply), good + " stray", "--ply"}) {
      INFO(args);
      const CommandResult r = run(dir, exe, args);
      CHECK(r.code == 2);
      CHECK(r.err.find("usage:") != std::string::npos);
    }
    CHECK_FALSE(fs::exists(out));
  }
  SECTION("missing and malformed inputs") {
    const std::string bad_ply = dir / "bad.ply", bad_json = dir / "bad.json";
    std::ofstream(bad_ply) << "ply\nformat binary_little_endian 1.0\nelement vertex 9\n"
                              "property float x\nend_header\n";
    std::ofstream(bad_json) << "{\"cameras\": [{\"name\": \"a\"}]}";
    for (const auto& [args, named] :
         std::vector<std::pair<std::string, std::string>>{
             {"--ply " + q(dir / "none.ply") + " --cameras " + q(cams) + " --out " + q(out),
              (dir / "none.ply")},
             {"--ply " + q(bad_ply) + " --cameras " + q(cams) + " --out " + q(out), bad_ply},
             {"--ply " + q(ply) + " --cameras " + q(bad_json) + " --out " + q(out), bad_json},
             {"--ply " + q(ply) + " --cameras " + q(dir / "none.json") + " --out " + q(out),
              (dir / "none.json")}}) {
      INFO(args);
      const CommandResult r = run(dir, exe, args);
      CHECK(r.code == 1);
      CHECK(r.err.find(named) != std::string::npos);
      CHECK(r.err.find("hint:") != std::string::npos);
    }
    CHECK_FALSE(fs::exists(out));  // nothing is written for bad input
  }
  SECTION("an output path that is a file") {
    std::ofstream(dir / "occupied") << "x";
    const CommandResult r = run(dir, exe,
                         "--ply " + q(ply) + " --cameras " + q(cams) + " --out " +
                             q(dir / "occupied") + " --device cpu");
    CHECK(r.code == 1);
    CHECK(r.err.find("occupied") != std::string::npos);
  }
  SECTION("a good render on the CPU") {
    const CommandResult r = run(dir, exe, good + " --device cpu --background=0,0,1");
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    CHECK(r.out.find("front view") != std::string::npos);
    const Image img = read_image(out + "/front view.png");
    REQUIRE(img.width == 64);
    REQUIRE(img.height == 48);
    auto px = [&](int x, int y, int c) { return img.pixels[(size_t(y) * 64 + x) * 3 + c]; };
    // Left Gaussian at x = 32 + 60·(−0.5/4) = 24.5: red; right one at 39.5: green; corner: blue.
    CHECK(px(24, 24, 0) > 0.8f);
    CHECK(px(24, 24, 1) < 0.2f);
    CHECK(px(39, 24, 1) > 0.8f);
    CHECK(px(39, 24, 0) < 0.2f);
    CHECK(px(0, 0, 2) > 0.95f);
    CHECK(px(0, 0, 0) < 0.05f);
  }
}

TEST_CASE("bench_render: usage errors exit 2, a run prints one JSON object", "[io][cli]") {
  const std::string exe = tool("bench_render");
  if (!fs::exists(exe)) {
    GS_SKIP(exe << " is not built");
    return;
  }
  TempDir dir("render_cli");
  write_scene(dir);
  const std::string ply = dir / "scene.ply", cams = dir / "cams.json";
  for (const std::string& args : std::vector<std::string>{
           "", "--ply " + q(ply), "--ply " + q(ply) + " --width 64",
        "--ply " + q(ply) + " --width 64 --height 48 --cameras " + q(cams),
        "--ply " + q(ply) + " --width 0 --height 48", "--ply " + q(ply) + " --cameras " + q(cams) +
        " --repeats 0"}) {
    INFO(args);
    CHECK(run(dir, exe, args).code == 2);
  }
  CHECK(run(dir, exe, "--ply " + q(dir / "none.ply") + " --width 8 --height 8").code == 1);
  CHECK(run(dir, exe, "--ply " + q(ply) + " --cameras " + q(cams) + " --camera nope").code == 1);

  for (const std::string& view :
       std::vector<std::string>{"--cameras " + q(cams), "--width 40 --height 30"}) {
    const CommandResult r =
        run(dir, exe, "--ply " + q(ply) + " " + view + " --device cpu --repeats 2 --warmup 0");
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    const nlohmann::json j = nlohmann::json::parse(r.out);
    CHECK(j["gaussians"] == 2);
    CHECK(j["visible"] == 2);
    CHECK(j["instances"].get<int>() >= 2);
    CHECK(j["forward_ms_median"].get<double>() >= 0);
    CHECK(j["backward_ms_median"].get<double>() >= 0);
    CHECK(j["repeats"] == 2);
    CHECK(j["peak_bytes"].get<size_t>() > 0);
    CHECK(j["peak_bytes_by_category"]["params"].get<size_t>() == 2 * 14 * sizeof(float));
    CHECK(j["peak_bytes_by_category"]["raster"].get<size_t>() > 0);
  }
}
