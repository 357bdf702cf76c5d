// Closed-form checks of the synthetic-scene mesh renderer (coverage, pinhole projection,
// z-buffer, near-plane clipping, perspective-correct UVs, fill rule, antialiasing, per-pixel
// instance labels) and of the mesh builders and procedural textures it draws.
#include <omp.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/errors.h"
#include "datasets/mesh.h"
#include "datasets/mesh_renderer.h"
#include "datasets/procedural_texture.h"
#include "core/camera.h"

using namespace gs::synth;

namespace {

// 32×32 camera at the origin looking down +z (identity world→camera).
gs::Camera test_camera(float fx = 50, float fy = 50, float cx = 16, float cy = 16) {
  gs::Camera c;
  c.width = 32;
  c.height = 32;
  c.fx = fx;
  c.fy = fy;
  c.cx = cx;
  c.cy = cy;
  return c;
}

// Unlit options: colour = albedo exactly, so tests can compare colours.
MeshRenderOptions unlit(int supersample = 1) {
  MeshRenderOptions o;
  o.supersample = supersample;
  o.ambient = 1;
  o.diffuse = 0;
  o.background = {0.25f, 0.5f, 0.75f};
  return o;
}

ProceduralTexture solid(Rgb c) {
  ProceduralTexture t;
  t.kind = TextureKind::solid;
  t.color_a = c;
  return t;
}

// Axis-aligned quad at depth z covering camera-space x ∈ [x0, x1], y ∈ [y0, y1].
Mesh quad_at(float x0, float x1, float y0, float y1, float z, int texture) {
  return make_quad({x0, y0, z}, {x1 - x0, 0, 0}, {0, y1 - y0, 0}, texture);
}

float alpha_at(const MeshRenderResult& r, int i, int j) {
  return r.rgba[(static_cast<size_t>(j) * r.width + i) * 4 + 3];
}
const float* rgba_at(const MeshRenderResult& r, int i, int j) {
  return &r.rgba[(static_cast<size_t>(j) * r.width + i) * 4];
}

}  // namespace

TEST_CASE("mesh renderer: a front-facing quad covers exactly its pixel rectangle", "[gen]") {
  // fx/z = fy/z = 25: x ∈ [−0.4, 0.4] → u ∈ [6, 26]; y ∈ [−0.2, 0.32] → v ∈ [11, 24].
  const Mesh quad = quad_at(-0.4f, 0.4f, -0.2f, 0.32f, 2.0f, 0);
  const std::vector<ProceduralTexture> tex = {solid({0.9f, 0.1f, 0.2f})};
  for (int ss : {1, 2, 4}) {
    const MeshRenderResult r = render_meshes({{&quad, Mat4{}}}, tex, test_camera(), unlit(ss));
    REQUIRE(r.width == 32);
    REQUIRE(r.height == 32);
    int covered = 0;
    for (int j = 0; j < 32; ++j) {
      for (int i = 0; i < 32; ++i) {
        const bool inside = i >= 6 && i <= 25 && j >= 11 && j <= 23;
        const float* p = rgba_at(r, i, j);
        INFO("ss " << ss << " pixel " << i << "," << j);
        if (inside) {
          ++covered;
          REQUIRE(p[3] == 1.0f);
          REQUIRE(p[0] == Approx(0.9f));
          REQUIRE(p[1] == Approx(0.1f));
          REQUIRE(p[2] == Approx(0.2f));
          REQUIRE(r.depth[static_cast<size_t>(j) * 32 + i] == Approx(2.0f).epsilon(1e-5));
        } else {
          REQUIRE(p[3] == 0.0f);
          REQUIRE(p[0] == 0.25f);  // background RGB where nothing is covered
          REQUIRE(r.depth[static_cast<size_t>(j) * 32 + i] == 0.0f);
        }
      }
    }
    REQUIRE(covered == 20 * 13);
  }
}

TEST_CASE("mesh renderer: a point at known depth lands on the pinhole pixel", "[gen]") {
  // A rotated, translated camera with fx ≠ fy and an off-centre principal point.
  gs::Camera cam = test_camera(50, 60, 15, 17);
  const Mat4 c2w = Mat4::translation({0.4f, -1.0f, 0.3f}) * Mat4::rotation({0.2f, 1, 0.1f}, 0.5f);
  set_camera_to_world(cam, c2w.m);
  const Vec3 p_cam{0.3f, -0.18f, 2.0f};
  const int expect_i = static_cast<int>(std::floor(50 * 0.3 / 2.0 + 15));     // u = 22.5
  const int expect_j = static_cast<int>(std::floor(60 * -0.18 / 2.0 + 17));  // v = 11.6
  // A tiny triangle around the point, ±0.3 px, built in camera space and moved to the world.
  const float d = 0.3f * 2.0f / 50.0f;
  Mesh tri;
  for (Vec3 off : {Vec3{-d, -d, 0}, Vec3{d, -d, 0}, Vec3{0, d, 0}})
    tri.vertices.push_back({c2w.transform_point(p_cam + off), {0, 0, -1}, 0, 0});
  tri.indices = {0, 1, 2};
  const MeshRenderResult r = render_meshes({{&tri, Mat4{}}}, {solid({1, 1, 1})}, cam, unlit(1));
  int covered = 0;
  for (int j = 0; j < 32; ++j)
    for (int i = 0; i < 32; ++i)
      if (alpha_at(r, i, j) > 0) {
        ++covered;
        CHECK(i == expect_i);
        CHECK(j == expect_j);
      }
  REQUIRE(covered == 1);
  REQUIRE(r.depth[static_cast<size_t>(expect_j) * 32 + expect_i] == Approx(2.0f).epsilon(1e-4));
}

TEST_CASE("mesh renderer: the nearer triangle wins regardless of order", "[gen]") {
  const Mesh near_red = quad_at(-0.4f, 0.0f, -0.4f, 0.4f, 2.0f, 0);
  const Mesh far_green = quad_at(-0.2f, 0.6f, -0.6f, 0.6f, 3.0f, 1);
  const std::vector<ProceduralTexture> tex = {solid({1, 0, 0}), solid({0, 1, 0})};
  for (bool red_first : {true, false}) {
    std::vector<MeshInstance> inst = {{&near_red, Mat4{}}, {&far_green, Mat4{}}};
    if (!red_first) std::swap(inst[0], inst[1]);
    const MeshRenderResult r = render_meshes(inst, tex, test_camera(), unlit(2));
    // (12, 16): u = 12.5 → red x/z = −0.07 (red spans u 6..16), green spans u 12.67..26 → both.
    const float* both = rgba_at(r, 14, 16);
    CHECK(both[0] == 1.0f);
    CHECK(both[1] == 0.0f);
    CHECK(r.depth[16 * 32 + 14] == Approx(2.0f).epsilon(1e-5));
    const float* green_only = rgba_at(r, 20, 16);
    CHECK(green_only[0] == 0.0f);
    CHECK(green_only[1] == 1.0f);
    CHECK(r.depth[16 * 32 + 20] == Approx(3.0f).epsilon(1e-5));
  }
}

TEST_CASE("mesh renderer: per-pixel labels follow the visible instance", "[gen]") {
  // u = 25·x + 16 at depth 2 (and 16.67·x + 16 at depth 3).
  const Mesh near_quad = quad_at(-0.4f, 0.0f, -0.4f, 0.4f, 2.0f, 0);  // u 6..16
  const Mesh far_quad = quad_at(-0.2f, 0.6f, -0.6f, 0.6f, 3.0f, 0);   // u 12.67..26
  const std::vector<ProceduralTexture> tex = {solid({1, 1, 1})};
  SECTION("one sample per pixel: the nearer instance's label, 0 where nothing is covered") {
    for (bool near_first : {true, false}) {
      std::vector<MeshInstance> inst = {{&near_quad, Mat4{}, 3}, {&far_quad, Mat4{}, 7}};
      if (!near_first) std::swap(inst[0], inst[1]);
      const MeshRenderResult r = render_meshes(inst, tex, test_camera(), unlit(1));
      REQUIRE(r.label.size() == 32u * 32u);
      CHECK(r.label[16 * 32 + 14] == 3);  // both cover it, the near one wins
      CHECK(r.label[16 * 32 + 8] == 3);
      CHECK(r.label[16 * 32 + 20] == 7);
      CHECK(r.label[16 * 32 + 2] == 0);   // nothing
      CHECK(r.label[1 * 32 + 14] == 0);
    }
  }
  SECTION("supersampled: the majority of the samples, ties to the first sample") {
    // u ∈ [6.5, 16.5]: pixels 6 and 16 are half covered (one of two sample columns).
    const Mesh quad = quad_at(-0.38f, 0.02f, -0.4f, 0.4f, 2.0f, 0);
    const MeshRenderResult r = render_meshes({{&quad, Mat4{}, 5}}, tex, test_camera(), unlit(2));
    CHECK(r.label[16 * 32 + 10] == 5);
    CHECK(alpha_at(r, 6, 16) == 0.5f);
    CHECK(alpha_at(r, 16, 16) == 0.5f);
    CHECK(r.label[16 * 32 + 6] == 0);   // first sample (left column) uncovered
    CHECK(r.label[16 * 32 + 16] == 5);  // first sample covered
    const MeshRenderResult r4 = render_meshes({{&quad, Mat4{}, 5}}, tex, test_camera(), unlit(4));
    CHECK(r4.label[16 * 32 + 10] == 5);
    CHECK(r4.label[16 * 32 + 6] == 0);
    CHECK(r4.label[16 * 32 + 16] == 5);
  }
}

TEST_CASE("mesh renderer: triangles crossing the near plane are clipped", "[gen]") {
  const std::vector<ProceduralTexture> tex = {solid({0.5f, 0.5f, 0.5f})};
  SECTION("a ground plane passing under and behind the camera covers exactly below its horizon") {
    // The plane y = 1 (below the camera: OpenCV y points down) from z = −5 to z = 25. Its far
    // edge projects to v = 16 + 50·1/25 = 18, so rows 18..31 are covered and rows 0..17 not;
    // without clipping, the vertices behind the camera would smear it over the top rows.
    const Mesh ground = make_quad({-50, 1, -5}, {100, 0, 0}, {0, 0, 30}, 0);
    for (int ss : {1, 2}) {
      const MeshRenderResult r = render_meshes({{&ground, Mat4{}}}, tex, test_camera(), unlit(ss));
      for (int j = 0; j < 32; ++j)
        for (int i = 0; i < 32; ++i) {
          INFO("ss " << ss << " pixel " << i << "," << j);
          REQUIRE(alpha_at(r, i, j) == (j >= 18 ? 1.0f : 0.0f));
        }
    }
  }
  SECTION("one vertex behind the camera: finite output, visible part drawn") {
    Mesh tri;
    tri.vertices = {{{-0.5f, -0.5f, 2}, {0, 0, -1}, 0, 0},
                    {{0.5f, -0.5f, 2}, {0, 0, -1}, 1, 0},
                    {{0.0f, 0.5f, -1}, {0, 0, -1}, 0, 1}};
    tri.indices = {0, 1, 2};
    MeshRenderResult r;
    REQUIRE_NOTHROW(r = render_meshes({{&tri, Mat4{}}}, tex, test_camera(), unlit(2)));
    int covered = 0;
    for (float v : r.rgba) REQUIRE(std::isfinite(v));
    for (int j = 0; j < 32; ++j)
      for (int i = 0; i < 32; ++i) covered += alpha_at(r, i, j) > 0;
    CHECK(covered > 0);
  }
  SECTION("a triangle entirely behind the camera draws nothing") {
    const Mesh behind = quad_at(-1, 1, -1, 1, -2.0f, 0);
    const MeshRenderResult r = render_meshes({{&behind, Mat4{}}}, tex, test_camera(), unlit(1));
    for (int j = 0; j < 32; ++j)
      for (int i = 0; i < 32; ++i) REQUIRE(alpha_at(r, i, j) == 0.0f);
  }
}

TEST_CASE("mesh renderer: an empty scene is background with alpha 0", "[gen]") {
  const MeshRenderResult r = render_meshes({}, {}, test_camera(), unlit(2));
  for (size_t p = 0; p < 32 * 32; ++p) {
    REQUIRE(r.rgba[p * 4 + 0] == 0.25f);
    REQUIRE(r.rgba[p * 4 + 1] == 0.5f);
    REQUIRE(r.rgba[p * 4 + 2] == 0.75f);
    REQUIRE(r.rgba[p * 4 + 3] == 0.0f);
    REQUIRE(r.depth[p] == 0.0f);
  }
  const std::vector<float> rgb = r.rgb_over({0.25f, 0.5f, 0.75f});
  REQUIRE(rgb[0] == 0.25f);
}

TEST_CASE("mesh renderer: UVs are interpolated perspective-correctly", "[gen]") {
  // A quad whose depth grows with x: z = 4 + 2x for x ∈ [−1, 1]; u = (x + 1) / 2. Along the
  // ray through pixel column i, x/z = k = (i + 0.5 − cx)/fx, so x = 4k / (1 − 2k).
  ProceduralTexture uv;
  uv.kind = TextureKind::uv_debug;
  Mesh quad;
  quad.vertices = {{{-1, -1, 2}, {0, 0, -1}, 0, 0.25f},
                   {{1, -1, 6}, {0, 0, -1}, 1, 0.25f},
                   {{-1, 1, 2}, {0, 0, -1}, 0, 0.25f},
                   {{1, 1, 6}, {0, 0, -1}, 1, 0.25f}};
  quad.indices = {0, 1, 3, 0, 3, 2};
  const gs::Camera cam = test_camera(10, 10, 16, 16);  // wide view: the quad spans u 11..17.7
  const MeshRenderResult r = render_meshes({{&quad, Mat4{}}}, {uv}, cam, unlit(1));
  int checked = 0;
  double max_affine_gap = 0;
  for (int i = 0; i < 32; ++i) {
    if (alpha_at(r, i, 16) == 0) continue;
    const double k = (i + 0.5 - 16) / 10.0;
    const double x = 4 * k / (1 - 2 * k);
    const double expect_u = (x + 1) / 2;
    const double affine_u = ((i + 0.5) - 11.0) / (16 + 10.0 / 6 - 11.0);  // screen-linear
    max_affine_gap = std::max(max_affine_gap, std::abs(affine_u - expect_u));
    INFO("column " << i);
    CHECK(rgba_at(r, i, 16)[0] == Approx(expect_u).margin(1.5e-3));  // vertices snap to 1/256 px
    CHECK(rgba_at(r, i, 16)[1] == Approx(0.25).margin(1e-5));
    ++checked;
  }
  CHECK(checked >= 5);
  CHECK(max_affine_gap > 0.05);  // the test would catch affine (wrong) interpolation
}

TEST_CASE("mesh renderer: shared edges through sample centres leave no holes", "[gen]") {
  // A square from pixel 6 to 26 split along its diagonal, which passes exactly through pixel
  // centres (i+0.5, i+0.5): the fill rule must give each such sample to one of the triangles.
  const Mesh quad = quad_at(-0.4f, 0.4f, -0.4f, 0.4f, 2.0f, 0);
  Mesh diag = quad;
  diag.indices = {0, 1, 2, 1, 3, 2};  // split along the other diagonal, x + y = 32
  for (const Mesh* m : std::vector<const Mesh*>{&quad, &diag}) {
    const MeshRenderResult r = render_meshes({{m, Mat4{}}}, {solid({1, 1, 1})}, test_camera(), unlit(1));
    for (int j = 6; j <= 25; ++j)
      for (int i = 6; i <= 25; ++i) REQUIRE(alpha_at(r, i, j) == 1.0f);
  }
}

TEST_CASE("mesh renderer: supersampling gives fractional coverage at edges", "[gen]") {
  // Right edge at u = 10.5: half of pixel 10 is covered.
  const Mesh quad = quad_at(-0.4f, (10.5f - 16) / 25, -0.4f, 0.4f, 2.0f, 0);
  for (int ss : {2, 4}) {
    const MeshRenderResult r = render_meshes({{&quad, Mat4{}}}, {solid({1, 0, 0})}, test_camera(), unlit(ss));
    CHECK(alpha_at(r, 9, 16) == 1.0f);
    CHECK(alpha_at(r, 10, 16) == 0.5f);
    CHECK(alpha_at(r, 11, 16) == 0.0f);
    CHECK(rgba_at(r, 10, 16)[0] == 1.0f);  // straight colour, not premultiplied
    const std::vector<float> rgb = r.rgb_over({0, 0, 1});
    CHECK(rgb[(16 * 32 + 10) * 3 + 0] == Approx(0.5f));
    CHECK(rgb[(16 * 32 + 10) * 3 + 2] == Approx(0.5f));
  }
}

TEST_CASE("mesh renderer: Lambert shading follows the light", "[gen]") {
  // A quad facing the camera (normal −z) lit from −z is fully lit; from +x, only ambient.
  const Mesh quad = quad_at(-0.4f, 0.4f, -0.4f, 0.4f, 2.0f, 0);
  MeshRenderOptions o;
  o.supersample = 1;
  o.ambient = 0.25f;
  o.diffuse = 0.5f;
  o.light_direction = {0, 0, -1};
  const std::vector<ProceduralTexture> tex = {solid({1, 1, 1})};
  MeshRenderResult r = render_meshes({{&quad, Mat4{}}}, tex, test_camera(), o);
  CHECK(rgba_at(r, 16, 16)[0] == Approx(0.75f));
  o.light_direction = {1, 0, 0};
  r = render_meshes({{&quad, Mat4{}}}, tex, test_camera(), o);
  CHECK(rgba_at(r, 16, 16)[0] == Approx(0.25f));
}

TEST_CASE("mesh renderer: output does not depend on the thread count", "[gen]") {
  const Mesh sphere = make_uv_sphere(0.5f, 24, 12, 0);
  ProceduralTexture marble;
  marble.kind = TextureKind::marble;
  marble.seed = 7;
  const gs::Camera cam = test_camera();
  const Mat4 at = Mat4::translation({0.1f, 0.0f, 2.5f});
  const int threads = omp_get_max_threads();
  // At least 4 threads against 1, also when the suite runs single-threaded (scripts/test.sh).
  omp_set_num_threads(std::max(4, threads));
  const MeshRenderResult a = render_meshes({{&sphere, at}}, {marble}, cam, {});
  omp_set_num_threads(1);
  const MeshRenderResult b = render_meshes({{&sphere, at}}, {marble}, cam, {});
  omp_set_num_threads(threads);
  REQUIRE(a.rgba.size() == b.rgba.size());
  REQUIRE(std::memcmp(a.rgba.data(), b.rgba.data(), a.rgba.size() * sizeof(float)) == 0);
}

TEST_CASE("mesh renderer: invalid input is refused with a clear error", "[gen]") {
  const Mesh quad = quad_at(-0.4f, 0.4f, -0.4f, 0.4f, 2.0f, 3);
  const std::vector<ProceduralTexture> one = {solid({1, 1, 1})};
  REQUIRE_THROWS_WITH(render_meshes({{&quad, Mat4{}}}, one, test_camera(), unlit(1)),
                      Catch::Contains("texture 3"));
  MeshRenderOptions bad = unlit(3);
  REQUIRE_THROWS_WITH(render_meshes({}, one, test_camera(), bad), Catch::Contains("supersample"));
  gs::Camera empty = test_camera();
  empty.width = 0;
  REQUIRE_THROWS_AS(render_meshes({}, one, empty, unlit(1)), gs::Error);
}

TEST_CASE("mesh builders: outward unit normals, closed seams, correct areas", "[gen]") {
  const float kPi = 3.14159265f;
  const Mesh sphere = make_uv_sphere(0.5f, 32, 16, 0);
  for (const MeshVertex& v : sphere.vertices) {
    REQUIRE(std::sqrt(dot(v.normal, v.normal)) == Approx(1.0f).epsilon(1e-5));
    REQUIRE(dot(v.normal, v.position) > 0);
  }
  CHECK(sphere.surface_area() == Approx(4 * kPi * 0.25).epsilon(0.02));
  // Seam vertices (u = 0 and u = 1) share bit-identical positions: no cracks.
  for (int r = 0; r <= 16; ++r) {
    const MeshVertex& a = sphere.vertices[static_cast<size_t>(r) * 33];
    const MeshVertex& b = sphere.vertices[static_cast<size_t>(r) * 33 + 32];
    REQUIRE(a.u == 0.0f);
    REQUIRE(b.u == 1.0f);
    REQUIRE(std::memcmp(&a.position, &b.position, sizeof(Vec3)) == 0);
  }
  const Mesh box = make_box({1, 2, 3}, 0);
  CHECK(box.surface_area() == Approx(2 * (1 * 2 + 2 * 3 + 1 * 3)));
  for (const MeshVertex& v : box.vertices) REQUIRE(dot(v.normal, v.position) > 0);
  // Triangle winding agrees with the stored normals (counter-clockwise seen from outside).
  for (const Mesh* m : {&sphere, &box}) {
    for (size_t t = 0; t < m->indices.size(); t += 3) {
      const MeshVertex& a = m->vertices[m->indices[t]];
      const MeshVertex& b = m->vertices[m->indices[t + 1]];
      const MeshVertex& c = m->vertices[m->indices[t + 2]];
      const Vec3 n = cross(b.position - a.position, c.position - a.position);
      if (dot(n, n) < 1e-12f) continue;  // degenerate pole triangles
      REQUIRE(dot(n, a.normal + b.normal + c.normal) > 0);
    }
  }
  const Mesh torus = make_torus(0.3f, 0.1f, 32, 12, 0);
  CHECK(torus.surface_area() == Approx(4 * kPi * kPi * 0.3 * 0.1).epsilon(0.02));
  const Mesh disk = make_disk(1.0f, 64, 4, 0);
  CHECK(disk.surface_area() == Approx(kPi).epsilon(0.01));
  const Mesh cyl = make_cylinder(0.1f, 0.5f, 32, 4, true, 0);
  CHECK(cyl.surface_area() == Approx(2 * kPi * 0.1 * 0.5 + 2 * kPi * 0.01).epsilon(0.01));
}

TEST_CASE("mesh transforms: normals use the inverse transpose", "[gen]") {
  // Squashing z by 4 tilts a 45° normal towards z.
  const Mat4 s = Mat4::scale({1, 1, 0.25f});
  const Vec3 n = s.transform_normal(normalize({1, 0, 1}));
  CHECK(n.x == Approx(1 / std::sqrt(17.0f)));
  CHECK(n.z == Approx(4 / std::sqrt(17.0f)));
  const Mat4 r = Mat4::rotation({0, 0, 1}, 3.14159265f / 2);
  const Vec3 x = r.transform_vector({1, 0, 0});
  CHECK(x.x == Approx(0).margin(1e-6));
  CHECK(x.y == Approx(1));
}

TEST_CASE("procedural textures: deterministic, seamless, in range and detailed", "[gen]") {
  CHECK(value_noise(0.3f, 0.7f, 4, 4, 9) == value_noise(0.3f, 0.7f, 4, 4, 9));
  CHECK(value_noise(0.3f, 0.7f, 4, 4, 9) != value_noise(0.3f, 0.7f, 4, 4, 10));
  CHECK(value_noise(0.3f, 0.7f, 4, 4, 9) == Approx(value_noise(4.3f, 0.7f, 4, 4, 9)).margin(1e-5));
  for (TextureKind k : {TextureKind::checker, TextureKind::stripes, TextureKind::marble,
                        TextureKind::brick, TextureKind::dots, TextureKind::tiles}) {
    ProceduralTexture t;
    t.kind = k;
    t.color_a = {0.9f, 0.2f, 0.1f};
    t.color_b = {0.1f, 0.3f, 0.9f};
    t.color_c = {0.9f, 0.9f, 0.2f};
    t.repeat_u = 3;
    t.repeat_v = 2;
    t.seed = 5;
    float lo = 1, hi = 0;
    for (int i = 0; i < 64; ++i) {
      for (int j = 0; j < 64; ++j) {
        const float u = (i + 0.5f) / 64, v = (j + 0.5f) / 64;
        const Rgb c = sample_texture(t, u, v);
        REQUIRE(c.r >= 0);
        REQUIRE(c.r <= 1);
        REQUIRE(c.b >= 0);
        REQUIRE(c.b <= 1);
        lo = std::min(lo, c.r);
        hi = std::max(hi, c.r);
      }
      // Wraps across the u seam: u and u + 1 give (nearly) the same colour.
      const Rgb a = sample_texture(t, 0.0001f, (i + 0.5f) / 64), b = sample_texture(t, 0.9999f, (i + 0.5f) / 64);
      CHECK(std::abs(a.r - b.r) < 0.15f);
    }
    INFO("texture kind " << static_cast<int>(k));
    CHECK(hi - lo > 0.3f);  // has contrast to fit
  }
}
