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

}  // namespace gs::test
