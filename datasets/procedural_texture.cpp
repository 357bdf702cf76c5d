// Procedural texture patterns: integer-hashed value noise and the pattern functions behind
// sample_texture().
#include "datasets/procedural_texture.h"

#include <algorithm>
#include <cmath>

namespace gs::synth {
namespace {

constexpr float kTwoPi = 6.28318530717958647692f;

// SplitMix64 finaliser: a cheap, well-mixed 64-bit hash (platform independent).
uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t hash3(int64_t a, int64_t b, uint64_t seed) {
  return mix64(mix64(seed ^ static_cast<uint64_t>(a)) ^ (static_cast<uint64_t>(b) * 0xd6e8feb86659fd93ull));
}

// Uniform in [0, 1) from the top 24 bits: exact in float.
float hash_unit(int64_t a, int64_t b, uint64_t seed) {
  return static_cast<float>(hash3(a, b, seed) >> 40) * (1.0f / 16777216.0f);
}

int64_t wrap(int64_t i, int period) {
  const int64_t m = i % period;
  return m < 0 ? m + period : m;
}

float fract(float x) { return x - std::floor(x); }
float smooth(float t) { return t * t * (3 - 2 * t); }
float saturate(float x) { return std::min(1.0f, std::max(0.0f, x)); }

Rgb mix(Rgb a, Rgb b, float t) {
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}
Rgb scale(Rgb a, float s) { return {a.r * s, a.g * s, a.b * s}; }
Rgb clamp01(Rgb a) { return {saturate(a.r), saturate(a.g), saturate(a.b)}; }

// Fractal sum of periodic value noise; each octave doubles the frequency and the period, so the
// sum still tiles with the base period.
float fbm(float x, float y, int period_x, int period_y, uint64_t seed, int octaves) {
  float sum = 0, amplitude = 0.5f, norm = 0;
  for (int o = 0; o < octaves; ++o) {
    sum += amplitude * value_noise(x, y, period_x, period_y, seed + static_cast<uint64_t>(o));
    norm += amplitude;
    x *= 2;
    y *= 2;
    period_x *= 2;
    period_y *= 2;
    amplitude *= 0.5f;
  }
  return sum / norm;
}

// Smooth step of width `w` around an edge at 0: cheap in-texture antialiasing of hard pattern
// edges, so the supersampled renders are not dominated by texture aliasing.
float soft_edge(float d, float w) { return saturate(0.5f + d / w); }

}  // namespace

float value_noise(float x, float y, int period_x, int period_y, uint64_t seed) {
  period_x = std::max(period_x, 1);
  period_y = std::max(period_y, 1);
  const float fx = std::floor(x), fy = std::floor(y);
  const int64_t ix = static_cast<int64_t>(fx), iy = static_cast<int64_t>(fy);
  const float tx = smooth(x - fx), ty = smooth(y - fy);
  const int64_t x0 = wrap(ix, period_x), x1 = wrap(ix + 1, period_x);
  const int64_t y0 = wrap(iy, period_y), y1 = wrap(iy + 1, period_y);
  const float v00 = hash_unit(x0, y0, seed), v10 = hash_unit(x1, y0, seed);
  const float v01 = hash_unit(x0, y1, seed), v11 = hash_unit(x1, y1, seed);
  const float a = v00 + (v10 - v00) * tx, b = v01 + (v11 - v01) * tx;
  return a + (b - a) * ty;
}

Rgb sample_texture(const ProceduralTexture& t, float u, float v) {
  u = fract(u);
  v = fract(v);
  const int ru = std::max(t.repeat_u, 1), rv = std::max(t.repeat_v, 1);
  const float x = u * ru, y = v * rv;  // pattern coordinates: one cell per unit
  switch (t.kind) {
    case TextureKind::solid: return t.color_a;
    case TextureKind::uv_debug: return {u, v, 0};
    case TextureKind::checker: {
      // Distance to the nearest cell edge, signed by the cell parity, gives a soft checker.
      const float dx = 0.5f - std::abs(fract(x) - 0.5f), dy = 0.5f - std::abs(fract(y) - 0.5f);
      const bool odd = ((static_cast<int64_t>(std::floor(x)) + static_cast<int64_t>(std::floor(y))) & 1) != 0;
      const float edge = saturate(std::min(dx, dy) / 0.04f);  // 0 on the edge, 1 inside
      const float w = odd ? 0.5f + 0.5f * edge : 0.5f - 0.5f * edge;
      return mix(t.color_a, t.color_b, w);
    }
    case TextureKind::stripes: {
      // Four bands per period along u + v (a, b, a, c), so a thin accent colour sits inside
      // every other pair; neighbouring bands blend over a narrow strip at each edge.
      const Rgb cols[4] = {t.color_a, t.color_b, t.color_a, t.color_c};
      const float band = fract(x + y) * 4;
      const int idx = static_cast<int>(band) & 3;
      const float f = fract(band);
      Rgb c = cols[idx];
      if (f > 0.9f) c = mix(c, cols[(idx + 1) & 3], (f - 0.9f) / 0.2f);
      else if (f < 0.1f) c = mix(c, cols[(idx + 3) & 3], (0.1f - f) / 0.2f);
      const float grain = 0.9f + 0.2f * value_noise(x * 16, y * 16, ru * 16, rv * 16, t.seed);
      return clamp01(scale(c, grain));
    }
    case TextureKind::marble: {
      const float turb = fbm(x * 2, y * 2, ru * 2, rv * 2, t.seed, 5);
      const float s = std::sin(kTwoPi * (x + 3.5f * turb));  // x is periodic in u: seamless
      const float vein = std::pow(1 - std::abs(s), 6.0f);   // thin dark veins
      const float glow = std::pow(0.5f + 0.5f * s, 3.0f);
      Rgb c = mix(t.color_a, t.color_c, 0.6f * glow);
      c = mix(c, t.color_b, vein);
      return clamp01(c);
    }
    case TextureKind::brick: {
      const float row = std::floor(y);
      const float shift = (static_cast<int64_t>(row) & 1) ? 0.5f : 0.0f;
      const float bx = x + shift;
      const float col = std::floor(bx);
      const float fx = bx - col, fy = y - row;
      // Mortar thickness relative to a brick: 6% of width, 10% of height.
      const float d = std::min(std::min(fx, 1 - fx) / 0.06f, std::min(fy, 1 - fy) / 0.10f);
      const float brick = soft_edge(d - 1, 0.4f);
      const int64_t bcol = wrap(static_cast<int64_t>(col), ru), brow = wrap(static_cast<int64_t>(row), rv);
      const float tint = 0.75f + 0.5f * hash_unit(bcol, brow, t.seed);
      const float grain = 0.85f + 0.3f * value_noise(x * 12, y * 6, ru * 12, rv * 6, t.seed + 17);
      const Rgb b = clamp01(scale(t.color_a, tint * grain));
      return mix(t.color_b, b, brick);
    }
    case TextureKind::dots: {
      const int64_t cx = wrap(static_cast<int64_t>(std::floor(x)), ru);
      const int64_t cy = wrap(static_cast<int64_t>(std::floor(y)), rv);
      const float radius = 0.22f + 0.16f * hash_unit(cx, cy, t.seed);
      const float dx = fract(x) - 0.5f, dy = fract(y) - 0.5f;
      const float d = radius - std::sqrt(dx * dx + dy * dy);
      const Rgb dot_colour = hash_unit(cy, cx, t.seed + 3) < 0.5f ? t.color_b : t.color_c;
      return mix(t.color_a, dot_colour, soft_edge(d, 0.05f));
    }
    case TextureKind::tiles: {
      const int64_t cx = wrap(static_cast<int64_t>(std::floor(x)), ru);
      const int64_t cy = wrap(static_cast<int64_t>(std::floor(y)), rv);
      const Rgb base = ((cx + cy) & 1) ? t.color_b : t.color_a;
      const float tint = 0.8f + 0.4f * hash_unit(cx, cy, t.seed);
      const float grain = 0.85f + 0.3f * fbm(x * 8, y * 8, ru * 8, rv * 8, t.seed + 5, 3);
      const float fx = fract(x), fy = fract(y);
      const float d = std::min(std::min(fx, 1 - fx), std::min(fy, 1 - fy));
      const float tile = soft_edge(d - 0.04f, 0.03f);
      return mix(t.color_c, clamp01(scale(base, tint * grain)), tile);
    }
  }
  return t.color_a;
}

}  // namespace gs::synth
