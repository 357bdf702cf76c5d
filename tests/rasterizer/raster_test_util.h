// Helpers for the rasterizer tests: random scenes (overlaps, Gaussians at the image border, past
// the FOV clamp and partly behind the near plane), host-side scene storage in any scalar type,
// and the test loss L = Σ w·rgb + Σ w'·alpha + Σ w''·depth.
#pragma once

#include <omp.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/camera.h"
#include "rasterizer/rasterize.h"

namespace gs::test {

// Runs the CPU backend single-threaded for the lifetime of the object: finite-difference loops
// render thousands of tiny images, where thread start-up and barriers on a loaded machine cost
// far more than the work.
class ScopedSingleThread {
 public:
  ScopedSingleThread() : previous_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~ScopedSingleThread() { omp_set_num_threads(previous_); }
  ScopedSingleThread(const ScopedSingleThread&) = delete;
  ScopedSingleThread& operator=(const ScopedSingleThread&) = delete;

 private:
  int previous_;
};

template <class T>
struct HostScene {
  std::vector<T> means, log_scales, quats, opacity_logits, colors;
  size_t count() const { return opacity_logits.size(); }
  GaussianInputsT<T> inputs() const {
    return {count(), means.data(), log_scales.data(), quats.data(), opacity_logits.data(),
            colors.data()};
  }
  template <class U>
  HostScene<U> cast() const {
    auto conv = [](const std::vector<T>& v) { return std::vector<U>(v.begin(), v.end()); };
    return {conv(means), conv(log_scales), conv(quats), conv(opacity_logits), conv(colors)};
  }
  void add(T x, T y, T z, T log_scale, T opacity_logit, T r, T g, T b) {
    means.insert(means.end(), {x, y, z});
    log_scales.insert(log_scales.end(), {log_scale, log_scale, log_scale});
    quats.insert(quats.end(), {T(1), T(0), T(0), T(0)});
    opacity_logits.push_back(opacity_logit);
    colors.insert(colors.end(), {r, g, b});
  }
};

// A camera at the origin looking down +z (world = camera frame), principal point centred.
inline Camera test_camera(int width, int height, float focal) {
  Camera c;
  c.name = "test";
  c.width = width;
  c.height = height;
  c.fx = c.fy = focal;
  c.cx = 0.5f * width;
  c.cy = 0.5f * height;
  return c;
}

// A camera with a non-trivial rotation and translation and an off-centre principal point,
// looking at the origin from `distance`.
inline Camera tilted_camera(int width, int height, float focal, float distance) {
  Camera c = look_at_camera(width, height, focal, focal * 1.1f, {0.3f * distance, -0.2f * distance, -distance},
                            {0.1f, 0.05f, 0.f});
  c.cx = 0.45f * width;
  c.cy = 0.55f * height;
  return c;
}

// Random Gaussians in front of test_camera(width, height, focal): most well inside, some at the
// border, one partly behind the near plane, one past the FOV clamp, one behind the camera.
inline HostScene<double> random_scene(std::mt19937& rng, int n, int width, int height,
                                      float focal, double max_opacity = 0.92) {
  std::uniform_real_distribution<double> u01(0, 1);
  std::normal_distribution<double> normal(0, 1);
  HostScene<double> s;
  const double lo = std::log(1.0 / (1.0 / 0.25 - 1)), hi = std::log(1.0 / (1.0 / max_opacity - 1));
  for (int i = 0; i < n; ++i) {
    const double z = 1.5 + 3.5 * u01(rng);
    // Screen position: mostly inside, every 5th near or past the border.
    const double margin = (i % 5 == 4) ? 0.15 : -0.1;
    const double px = (-margin + (1 + 2 * margin) * u01(rng)) * width;
    const double py = (-margin + (1 + 2 * margin) * u01(rng)) * height;
    s.means.insert(s.means.end(), {(px - 0.5 * width) * z / focal, (py - 0.5 * height) * z / focal, z});
    for (int k = 0; k < 3; ++k) s.log_scales.push_back(std::log(0.04 + 0.25 * u01(rng)) + 0.0 * k);
    for (int k = 0; k < 4; ++k) s.quats.push_back(normal(rng));
    s.opacity_logits.push_back(lo + (hi - lo) * u01(rng));
    for (int k = 0; k < 3; ++k) s.colors.push_back(u01(rng));
  }
  // Partly behind the near plane (centre at z = 0.35, extends past 0.2).
  s.add(0.05, -0.02, 0.35, std::log(0.12), 0.3, 0.9, 0.2, 0.1);
  // Past the FOV clamp: centre well outside the view, footprint reaching in.
  s.add(0.9 * 4.0 * width / focal, 0.1, 4.0, std::log(1.2), 0.5, 0.1, 0.8, 0.3);
  // Behind the camera: culled.
  s.add(0.0, 0.0, -2.0, std::log(0.3), 1.0, 0.5, 0.5, 0.5);
  // Random rotations for the last three too.
  for (size_t i = s.quats.size() - 12; i < s.quats.size(); ++i) s.quats[i] = normal(rng);
  return s;
}

// Moves a scene built in test_camera's frame (camera = world) in front of `camera`.
template <class T>
void move_to_camera_frame(HostScene<T>& s, const Camera& camera) {
  const std::array<float, 16> c2w = camera_to_world(camera);
  for (size_t i = 0; i < s.count(); ++i) {
    T p[3];
    for (int r = 0; r < 3; ++r)
      p[r] = T(c2w[r * 4]) * s.means[i * 3] + T(c2w[r * 4 + 1]) * s.means[i * 3 + 1] +
             T(c2w[r * 4 + 2]) * s.means[i * 3 + 2] + T(c2w[r * 4 + 3]);
    for (int r = 0; r < 3; ++r) s.means[i * 3 + r] = p[r];
  }
}

template <class T>
struct LossWeights {
  std::vector<T> rgb, alpha, depth;
  template <class U>
  LossWeights<U> cast_helper() const {
    return {std::vector<U>(rgb.begin(), rgb.end()), std::vector<U>(alpha.begin(), alpha.end()),
            std::vector<U>(depth.begin(), depth.end())};
  }
};

inline LossWeights<double> random_weights(std::mt19937& rng, int width, int height) {
  std::uniform_real_distribution<double> u(-1, 1);
  LossWeights<double> w;
  const size_t p = size_t(width) * height;
  for (size_t i = 0; i < p * 3; ++i) w.rgb.push_back(u(rng));
  for (size_t i = 0; i < p; ++i) w.alpha.push_back(u(rng));
  for (size_t i = 0; i < p; ++i) w.depth.push_back(0.2 * u(rng));
  return w;
}

template <class T, class W>
double loss_of(const RasterForwardT<T>& f, const LossWeights<W>& w) {
  double l = 0;
  for (size_t i = 0; i < w.rgb.size(); ++i) l += double(w.rgb[i]) * double(f.rgb[i]);
  for (size_t i = 0; i < w.alpha.size(); ++i) l += double(w.alpha[i]) * double(f.alpha[i]);
  for (size_t i = 0; i < w.depth.size(); ++i) l += double(w.depth[i]) * double(f.depth[i]);
  return l;
}

}  // namespace gs::test
