// The generated street scene the street and humans tests train on: 12 frames × 3 cameras at
// 160×96 (frames 4 and 8 held out), a light LiDAR; about a minute per run on two cores.
#pragma once

#include <string>

#include "datasets/street_generator.h"
#include "tests/test_support.h"

namespace gs::test {

inline std::string make_test_street(const TempDir& dir, int vehicles = 4) {
  StreetGeneratorOptions g = street_generator_preset("small");
  g.frames = 12;
  g.width = 160;
  g.height = 96;
  g.lidar_beams = 16;
  g.lidar_azimuths = 256;
  g.vehicles = vehicles;
  const std::string path = dir / "street";
  generate_street_scene(path, g);
  return path;
}

// The omnire layout at the test street's size (the street and humans training tests): a
// background node (capped at 60k Gaussians), `actor_nodes` (YAML node entries, indented by two)
// and the sky; `sections` adds top-level sections (e.g. deform:).
inline std::string test_street_yaml(const std::string& sections, const std::string& actor_nodes) {
  return R"(scene: omnire
data:
  format: street
  background: black
  cameras: 3
  frames: 12
  test_every: 4
train:
  sh_increase_every: 200
  log_every: 50
  save_every: 100000
densify:
  start: 150
  every: 50
  stop: 600
  opacity_reset_every: 100000
  percent_dense: 0.003
memory:
  budget_gb: 2
  log_every: 50
)" + sections + R"(nodes:
  background:
    kind: background
    sh_degree: 1
    priority: 3
    share: 0.8
    init_points: 40000
    max_gaussians: 60000
    grad_threshold: 0.0005
)" + actor_nodes + R"(  sky:
    kind: sky
    env_map_resolution: 32
)";
}

}  // namespace gs::test
