// Helpers for the scene-node tests: a config from a minimal YAML, node configs and setups built
// from it, and random Gaussians in front of a camera at the origin looking down +z.
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/camera.h"
#include "scene/gaussian_node.h"

namespace gs::test {

// A static scene with one background node; tests copy its node config for their own nodes.
inline Config static_config() {
  return parse_config(
      "scene: static\n"
      "nodes:\n"
      "  background:\n"
      "    kind: background\n",
      "inline.yaml");
}

// The config's first node, renamed and reprioritised.
inline NodeConfig node_config(const Config& cfg, const std::string& name, int priority = 1) {
  NodeConfig n = cfg.nodes.at(0);
  n.name = name;
  n.priority = priority;
  return n;
}

// A CPU node setup; `cfg` and `node` must outlive the node built from it.
inline NodeSetup node_setup(const Config& cfg, const NodeConfig& node, size_t capacity,
                            int sh_degree = 1) {
  NodeSetup s;
  s.config = &cfg;
  s.node = &node;
  s.device = Device::cpu();
  s.sh_degree = sh_degree;
  s.capacity = capacity;
  s.scene_extent = 1.0;
  return s;
}

// n Gaussians in front of a camera at the origin looking down +z (depth 2..5, inside the field
// of view of `camera_at_origin`), with random shapes, opacities and SH coefficients.
inline GaussianCloud random_cloud(std::mt19937& rng, size_t n, int sh_degree) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  GaussianCloud c;
  c.resize(n, sh_degree);
  for (size_t i = 0; i < n; ++i) {
    const float z = 3.5f + 1.5f * u(rng);
    c.means[3 * i] = 0.5f * z * u(rng);
    c.means[3 * i + 1] = 0.5f * z * u(rng);
    c.means[3 * i + 2] = z;
    for (int j = 0; j < 3; ++j) c.log_scales[3 * i + j] = -2.5f + 0.5f * u(rng);
    for (int j = 0; j < 4; ++j) c.quats[4 * i + j] = u(rng) + (j == 0 ? 2.f : 0.f);
    c.opacity_logits[i] = 1.5f * u(rng);
    for (int k = 0; k < c.coeffs() * 3; ++k)
      c.sh[size_t(k) + i * size_t(c.coeffs()) * 3] = 0.4f * u(rng);
  }
  return c;
}

// A 48 × 32 pinhole camera at the origin looking down +z (world = camera frame).
inline Camera camera_at_origin() {
  Camera c;
  c.name = "test";
  c.width = 48;
  c.height = 32;
  c.fx = c.fy = 40.f;
  c.cx = 24.f;
  c.cy = 16.f;
  return c;
}

// Host gradient rows for n placed Gaussians (zero unless set) and the NodeGradients over them.
struct HostGradients {
  std::vector<float> means, log_scales, quats, opacity, colors;
  explicit HostGradients(size_t n)
      : means(n * 3, 0.f), log_scales(n * 3, 0.f), quats(n * 4, 0.f), opacity(n, 0.f),
        colors(n * 3, 0.f) {}
  // The node tests' synthetic step: every mean pulled along (0.3, −0.2, 0.5), random quaternion
  // gradients (seed 9), nothing else.
  HostGradients& synthetic() {
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (size_t i = 0; i < opacity.size(); ++i) {
      means[3 * i] = 0.3f, means[3 * i + 1] = -0.2f, means[3 * i + 2] = 0.5f;
      for (size_t j = 0; j < 4; ++j) quats[4 * i + j] = u(rng);
    }
    return *this;
  }
  NodeGradients view() {
    NodeGradients g;
    g.v_means = means.data();
    g.v_log_scales = log_scales.data();
    g.v_quats = quats.data();
    g.v_opacity_logits = opacity.data();
    g.v_colors = colors.data();
    return g;
  }
};

}  // namespace gs::test
