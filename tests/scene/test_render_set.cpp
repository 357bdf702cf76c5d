// The render set: two background nodes render exactly what one node holding the union of their
// Gaussians renders, each node's gradients are its own rows of the rasterizer's, and a single
// node is rendered from its own arrays (no copy, no extra memory). CPU.
#include <catch2/catch.hpp>
#include <memory>
#include <random>
#include <vector>

#include "rasterizer/sh.h"
#include "scene/render_set.h"
#include "tests/scene/node_test_util.h"

using namespace gs;
using namespace gs::test;

namespace {

constexpr int kSh = 1;
constexpr size_t kCountA = 30, kCountB = 20;

GaussianCloud concat(const GaussianCloud& a, const GaussianCloud& b) {
  GaussianCloud c = a;
  c.append(b);
  return c;
}

// Nodes a and b (background, different capacities) and node u holding a's then b's Gaussians.
struct TwoNodesAndUnion {
  Config cfg = static_config();
  NodeConfig config_a = node_config(cfg, "a"), config_b = node_config(cfg, "b"),
             config_u = node_config(cfg, "union");
  std::unique_ptr<SceneNode> a = make_scene_node(node_setup(cfg, config_a, 40, kSh));
  std::unique_ptr<SceneNode> b = make_scene_node(node_setup(cfg, config_b, 25, kSh));
  std::unique_ptr<SceneNode> u = make_scene_node(node_setup(cfg, config_u, 70, kSh));
  Camera camera = camera_at_origin();
  FrameContext frame;

  TwoNodesAndUnion() {
    std::mt19937 rng(11);
    const GaussianCloud ca = random_cloud(rng, kCountA, kSh), cb = random_cloud(rng, kCountB, kSh);
    a->model().load_cloud(ca);
    b->model().load_cloud(cb);
    u->model().load_cloud(concat(ca, cb));
    frame.step = 1;
    frame.camera = &camera;
    frame.active_sh_degree = kSh;
  }
};

RasterSettings settings() {
  RasterSettings rs;
  rs.background[0] = 0.2f;
  rs.background[1] = 0.4f;
  rs.background[2] = 0.6f;
  return rs;
}

template <class T>
std::vector<T> host(const T* p, size_t n) {
  return std::vector<T>(p, p + n);  // CPU buffers: plain memory
}

}  // namespace

TEST_CASE("render set: two nodes render exactly what one node with the union renders",
          "[scene][render_set]") {
  TwoNodesAndUnion s;
  const RasterSettings rs = settings();

  // The reference: the union's stored Gaussians with their SH colours, straight to the rasterizer.
  GaussianModel& um = s.u->model();
  const size_t n = kCountA + kCountB;
  std::vector<float> colors(n * 3);
  const auto campos = camera_center(s.camera);
  sh_to_color_forward(Device::cpu(), n, kSh, kSh, um.params(GaussianParam::sh),
                      um.params(GaussianParam::means), campos.data(), colors.data());
  const RasterForward ref =
      rasterize_forward(Device::cpu(), um.inputs(colors.data()), s.camera, rs);
  REQUIRE(ref.stats.visible > n / 2);

  RenderSet two(Device::cpu(), {s.a.get(), s.b.get()});
  GaussianInputs in;
  const RasterForward out = render_frame(two, s.frame, rs, &in);
  CHECK(two.count() == n);
  REQUIRE(in.count == n);
  CHECK(host(in.means, n * 3) == host(um.params(GaussianParam::means), n * 3));
  CHECK(host(in.log_scales, n * 3) == host(um.params(GaussianParam::log_scales), n * 3));
  CHECK(host(in.quats, n * 4) == host(um.params(GaussianParam::quats), n * 4));
  CHECK(host(in.opacity_logits, n) == host(um.params(GaussianParam::opacity), n));
  CHECK(host(in.colors, n * 3) == colors);

  CHECK(out.rgb.to_host() == ref.rgb.to_host());
  CHECK(out.alpha.to_host() == ref.alpha.to_host());
  CHECK(out.depth.to_host() == ref.depth.to_host());
  CHECK(out.radii.to_host() == ref.radii.to_host());
  CHECK(out.stats.instances == ref.stats.instances);

  // The union as a one-node render set: the same image again.
  RenderSet one(Device::cpu(), {s.u.get()});
  const RasterForward single = render_frame(one, s.frame, rs);
  CHECK(single.rgb.to_host() == ref.rgb.to_host());
}

TEST_CASE("render set: each node's gradients are its rows of the rasterizer's",
          "[scene][render_set]") {
  TwoNodesAndUnion s;
  const RasterSettings rs = settings();
  const size_t n = kCountA + kCountB;
  const size_t px = size_t(s.camera.width) * size_t(s.camera.height);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> w(-1.f, 1.f);
  std::vector<float> v_rgb(px * 3), v_alpha(px);
  for (float& v : v_rgb) v = w(rng);
  for (float& v : v_alpha) v = w(rng);

  RenderSet two(Device::cpu(), {s.a.get(), s.b.get()});
  RenderSet one(Device::cpu(), {s.u.get()});
  GaussianInputs in2, in1;
  const RasterForward f2 = render_frame(two, s.frame, rs, &in2);
  const RasterForward f1 = render_frame(one, s.frame, rs, &in1);
  RasterGradients g2 = rasterize_backward(Device::cpu(), in2, s.camera, rs, f2, v_rgb.data(),
                                          v_alpha.data(), nullptr);
  RasterGradients g1 = rasterize_backward(Device::cpu(), in1, s.camera, rs, f1, v_rgb.data(),
                                          v_alpha.data(), nullptr);

  // Each node's backward (SH term into its v_means), on its slice.
  const NodeGradients sa = two.slice(0, g2, f2), sb = two.slice(1, g2, f2);
  const NodeGradients su = one.slice(0, g1, f1);
  s.a->backward(s.frame, sa);
  s.b->backward(s.frame, sb);
  s.u->backward(s.frame, su);

  CHECK(sa.v_means == g2.v_means.data());
  CHECK(sb.v_means == g2.v_means.data() + kCountA * 3);
  CHECK(sb.radii == f2.radii.data() + kCountA);
  // Node b's slice holds the union's rows [kCountA, n), node a's rows [0, kCountA).
  auto same_rows = [&](const NodeGradients& node, size_t first, size_t rows) {
    INFO("rows from " << first);
    CHECK(host(node.v_means, rows * 3) == host(su.v_means + first * 3, rows * 3));
    CHECK(host(node.v_log_scales, rows * 3) == host(su.v_log_scales + first * 3, rows * 3));
    CHECK(host(node.v_quats, rows * 4) == host(su.v_quats + first * 4, rows * 4));
    CHECK(host(node.v_opacity_logits, rows) == host(su.v_opacity_logits + first, rows));
    CHECK(host(node.v_colors, rows * 3) == host(su.v_colors + first * 3, rows * 3));
    CHECK(host(node.absgrad, rows * 2) == host(su.absgrad + first * 2, rows * 2));
    CHECK(host(node.v_mean2d, rows * 2) == host(su.v_mean2d + first * 2, rows * 2));
    CHECK(host(node.radii, rows) == host(su.radii + first, rows));
  };
  same_rows(sa, 0, kCountA);
  same_rows(sb, kCountA, kCountB);
  bool any_gradient = false;
  for (float v : g1.v_means.to_host()) any_gradient = any_gradient || v != 0.f;
  CHECK(any_gradient);

  // An Adam step on each node moves every parameter (SH included) exactly as the union's step
  // moves its rows.
  s.a->optimizer_step(1, sa);
  s.b->optimizer_step(1, sb);
  s.u->optimizer_step(1, su);
  for (int g = 0; g < kNumGaussianParams; ++g) {
    const GaussianParam p = GaussianParam(g);
    const size_t row = group_row_floats(p, kSh);
    INFO("group " << to_string(p));
    const float* all = s.u->model().params(p);
    CHECK(host(s.a->model().params(p), kCountA * row) == host(all, kCountA * row));
    CHECK(host(s.b->model().params(p), kCountB * row) == host(all + kCountA * row, kCountB * row));
  }
  CHECK(n == s.u->count());
}

TEST_CASE("render set: one node is rendered from its own arrays", "[scene][render_set]") {
  TwoNodesAndUnion s;
  const size_t colors = 3 * sizeof(float);
  RenderSet one(Device::cpu(), {s.u.get()});
  CHECK(one.bytes() == 70 * colors);  // colours only, for the node's capacity
  const GaussianInputs in = one.assemble(s.frame);
  const GaussianModel& m = s.u->model();
  CHECK(in.count == m.count());
  CHECK(in.means == m.params(GaussianParam::means));
  CHECK(in.log_scales == m.params(GaussianParam::log_scales));
  CHECK(in.quats == m.params(GaussianParam::quats));
  CHECK(in.opacity_logits == m.params(GaussianParam::opacity));

  // Several nodes: copies at the sum of the capacities (means, scales, quats, opacity, colours).
  RenderSet two(Device::cpu(), {s.a.get(), s.b.get()});
  CHECK(two.bytes() == (40 + 25) * (3 + 3 + 4 + 1 + 3) * sizeof(float));

  // The rows follow the nodes' counts at each assemble.
  std::mt19937 rng(3);
  s.a->model().load_cloud(random_cloud(rng, 7, kSh));
  CHECK(two.assemble(s.frame).count == 7 + kCountB);
  RasterForward f = render_frame(two, s.frame, settings());
  RasterGradients g = rasterize_backward(Device::cpu(), two.assemble(s.frame), s.camera, settings(),
                                         f, nullptr, nullptr, nullptr);
  CHECK(two.slice(1, g, f).v_quats == g.v_quats.data() + 7 * 4);
}

TEST_CASE("render set: a render-only node (gsrender's) renders the same with parameters only",
          "[scene][render_set]") {
  TwoNodesAndUnion s;
  NodeSetup frozen_setup = node_setup(s.cfg, s.config_u, 70, kSh);
  frozen_setup.trainable = false;
  std::unique_ptr<SceneNode> frozen = make_scene_node(frozen_setup);
  frozen->model().load_cloud(s.u->model().to_cloud());
  // Parameters only: no Adam moments (2 × the parameters), statistics or gradient buffers.
  const size_t row = 3 + 3 + 4 + 1 + 3 * 4;  // SH degree 1: 4 coefficients × 3
  CHECK(frozen->model().allocated_bytes() == 70 * row * sizeof(float));
  CHECK(s.u->model().allocated_bytes() > 3 * frozen->model().allocated_bytes());
  RenderSet a(Device::cpu(), {s.u.get()}), b(Device::cpu(), {frozen.get()});
  const std::vector<float> x = render_frame(a, s.frame, settings()).rgb.to_host();
  const std::vector<float> y = render_frame(b, s.frame, settings()).rgb.to_host();
  CHECK(x == y);
  frozen->model().with_host_arrays(
      [](ModelHostArrays& h) {
        CHECK(h.adam_m[0] == nullptr);
        CHECK(h.grad_count == nullptr);
      },
      false);
}
