// Initial points: PLY point clouds (ASCII and binary, colours as bytes or 3DGS SH DC) and the
// init_ply option that overrides a scene's own points.
#include <catch2/catch.hpp>

#include "core/errors.h"
#include "datasets/dataset.h"
#include "datasets/init_points.h"
#include "tests/datasets/dataset_fixtures.h"

using namespace gs;
using namespace gs::test;

TEST_CASE("init points: ASCII PLY with byte colours", "[data]") {
  TempDir dir("ply_ascii");
  write_text(dir / "p.ply",
             "ply\nformat ascii 1.0\ncomment test\nelement vertex 2\nproperty float x\n"
             "property float y\nproperty float z\nproperty uchar red\nproperty uchar green\n"
             "property uchar blue\nelement face 0\nproperty list uchar int vertex_indices\n"
             "end_header\n1 2 3 255 0 51\n-1 -2 -3.5 0 255 102\n");
  std::vector<float> p, c;
  read_ply_points(dir / "p.ply", p, c);
  REQUIRE(p.size() == 6);
  CHECK(p[5] == Approx(-3.5));
  CHECK(c[0] == Approx(1));
  CHECK(c[2] == Approx(0.2));
  CHECK(c[4] == Approx(1));
}

TEST_CASE("init points: binary PLY with SH DC colours, in any property order", "[data]") {
  TempDir dir("ply_bin");
  {
    std::ofstream f(dir / "p.ply", std::ios::binary);
    f << "ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float f_dc_0\n"
         "property float f_dc_1\nproperty float f_dc_2\nproperty double x\nproperty float y\n"
         "property float z\nproperty float opacity\nend_header\n";
    for (int i = 0; i < 3; ++i) {
      put<float>(f, 0.f);
      put<float>(f, 1.f);
      put<float>(f, -10.f);
      put<double>(f, i);
      put<float>(f, 2.f * i);
      put<float>(f, 3.f * i);
      put<float>(f, 0.5f);
    }
  }
  std::vector<float> p, c;
  read_ply_points(dir / "p.ply", p, c);
  REQUIRE(p.size() == 9);
  CHECK(p[6] == 2);
  CHECK(p[8] == 6);
  CHECK(c[0] == Approx(0.5));
  CHECK(c[1] == Approx(0.5 + 0.28209479));
  CHECK(c[2] == 0);  // clamped

  // Truncated data is refused with the vertex index.
  fs::resize_file(dir / "p.ply", fs::file_size(dir / "p.ply") - 4);
  p.clear(), c.clear();
  try {
    read_ply_points(dir / "p.ply", p, c);
    FAIL("expected IoError");
  } catch (const IoError& e) {
    CHECK_THAT(e.what(), Catch::Contains("p.ply: truncated at vertex 2"));
  }
}

TEST_CASE("init points: malformed PLY headers", "[data]") {
  TempDir dir("ply_bad");
  std::vector<float> p, c;
  write_text(dir / "a.ply", "not a ply\n");
  CHECK_THROWS_WITH(read_ply_points(dir / "a.ply", p, c), Catch::Contains("a.ply: not a PLY"));
  write_text(dir / "b.ply",
             "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n1\n");
  CHECK_THROWS_WITH(read_ply_points(dir / "b.ply", p, c), Catch::Contains("no x, y, z"));
  write_text(dir / "c.ply", "ply\nformat binary_big_endian 1.0\nelement vertex 1\nend_header\n");
  CHECK_THROWS_WITH(read_ply_points(dir / "c.ply", p, c), Catch::Contains("binary_big_endian"));
  CHECK_THROWS_AS(read_ply_points(dir / "missing.ply", p, c), IoError);
}

TEST_CASE("init points: init_ply replaces the scene's points", "[data]") {
  TempDir dir("ply_override");
  FixtureModel m;
  m.cameras.push_back({1, 0, "SIMPLE_PINHOLE", 8, 6, {8, 4, 3}});
  m.images.push_back({1, {1, 0, 0, 0}, {0, 0, 0}, 1, "a.png"});
  m.images.push_back({2, {1, 0, 0, 0}, {1, 0, 0}, 1, "b.png"});
  m.points.push_back({1, {1, 1, 1}, {1, 2, 3}});
  write_colmap_binary(dir / "sparse/0", m);
  write_solid(dir / "images/a.png", 8, 6, 0, 0, 0);
  write_solid(dir / "images/b.png", 8, 6, 0, 0, 0);
  write_text(dir / "init.ply",
             "ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\n"
             "property float y\nproperty float z\nend_header\n0 0 5\n0 0 6\n");
  DatasetOptions o;
  o.test_every = 0;
  o.init_ply = dir / "init.ply";
  const Dataset d = load_dataset(dir.str(), o);
  REQUIRE(d.init_points.size() == 6);
  CHECK(d.init_points[5] == 6);
  CHECK(d.init_colors[0] == Approx(0.5));  // no colour: grey
  CHECK(d.init_source == o.init_ply);
  // Two cameras one unit apart: centre halfway, extent 1.1 × 0.5.
  CHECK(d.scene_center[0] == Approx(-0.5));
  CHECK(d.scene_extent == Approx(0.55));
}
