// Deterministic procedural textures sampled by UV, for the synthetic-scene generator: colourful
// patterns with sharp edges and fine noise so a trained model has real detail to fit. Every
// pattern repeats an integer number of times per unit of u and v, so it wraps without a seam on
// spheres, cylinders and tori; the same (texture, u, v) gives the same colour on every machine
// (integer hashing, no std:: random distributions).
#pragma once

#include <cstdint>

namespace gs::synth {

struct Rgb {
  float r = 0, g = 0, b = 0;
};

enum class TextureKind {
  solid,     // color_a
  checker,   // color_a / color_b squares, repeat_u × repeat_v of them
  stripes,   // diagonal (helical on round shapes) bands a, b, c: repeat_u turns in u, repeat_v in v
  marble,    // color_a base with color_b veins and color_c highlights from value-noise turbulence
  brick,     // repeat_v rows of repeat_u bricks (offset every other row), color_a bricks with
             // per-brick tint and grain, color_b mortar
  dots,      // color_b dots on color_a, a repeat_u × repeat_v lattice with hashed radii
  tiles,     // checker of color_a / color_b with per-tile tint, grout lines and fine grain
  uv_debug,  // (u, v, 0): for tests of UV interpolation
};

struct ProceduralTexture {
  TextureKind kind = TextureKind::solid;
  Rgb color_a{0.8f, 0.8f, 0.8f};
  Rgb color_b{0.2f, 0.2f, 0.2f};
  Rgb color_c{1.0f, 1.0f, 1.0f};
  int repeat_u = 4, repeat_v = 4;  // pattern periods per unit of UV (integers: seamless wrap)
  uint64_t seed = 0;               // noise pattern
};

// Albedo in [0, 1] at (u, v); u and v wrap modulo 1.
Rgb sample_texture(const ProceduralTexture& texture, float u, float v);

// Periodic value noise in [0, 1]: smooth interpolation of hashed lattice values at integer
// points, with the lattice wrapped modulo (period_x, period_y) so the noise tiles.
float value_noise(float x, float y, int period_x, int period_y, uint64_t seed);

}  // namespace gs::synth
