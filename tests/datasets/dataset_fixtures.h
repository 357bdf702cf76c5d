// Test helpers that write tiny datasets into a temporary folder: PNG/JPEG images, transforms
// JSON files and COLMAP models in both the text and the binary format (a minimal writer of
// COLMAP's binary layout, independent of the reader under test).
#pragma once

#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "datasets/image_codec.h"
#include "core/camera.h"
#include "tests/test_support.h"

namespace gs::test {

namespace fs = std::filesystem;

inline void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// Writes an image given as RGB(A) rows: JPEG (quality 95) for a .jpg/.jpeg extension, else PNG.
inline void write_image(const std::string& path, int w, int h, int channels,
                        const std::vector<uint8_t>& rgba) {
  fs::create_directories(fs::path(path).parent_path());
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::vector<uint8_t> bytes = ext == ".jpg" || ext == ".jpeg"
                                         ? encode_jpeg(rgba.data(), w, h, channels, 95)
                                         : encode_png(rgba.data(), w, h, channels);
  if (bytes.empty()) throw std::runtime_error("write_image: cannot encode " + path);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

// A uniformly coloured RGB image.
inline void write_solid(const std::string& path, int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  std::vector<uint8_t> px(size_t(w) * h * 3);
  for (size_t i = 0; i < px.size(); i += 3) px[i] = r, px[i + 1] = g, px[i + 2] = b;
  write_image(path, w, h, 3, px);
}

// Grey-level image of Gaussian blobs (sigma in pixels) centred at continuous coordinates with
// pixel (i, j) centred at (i + 0.5, j + 0.5).
inline std::vector<uint8_t> blob_image(int w, int h, const std::vector<std::array<double, 2>>& at,
                                       double sigma) {
  std::vector<uint8_t> px(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double v = 0;
      for (const auto& c : at) {
        const double dx = x + 0.5 - c[0], dy = y + 0.5 - c[1];
        v += std::exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
      }
      const uint8_t g = static_cast<uint8_t>(std::lround(std::min(1.0, v) * 255));
      for (int k = 0; k < 3; ++k) px[(size_t(y) * w + x) * 3 + k] = g;
    }
  return px;
}

// Intensity-weighted centroid (pixel centres at i + 0.5) of channel 0 in a window.
inline std::array<double, 2> centroid(const std::vector<uint8_t>& rgb, int w, int h, double cx,
                                      double cy, int radius) {
  double sw = 0, sx = 0, sy = 0;
  for (int y = std::max(0, int(cy) - radius); y <= std::min(h - 1, int(cy) + radius); ++y)
    for (int x = std::max(0, int(cx) - radius); x <= std::min(w - 1, int(cx) + radius); ++x) {
      const double v = rgb[(size_t(y) * w + x) * 3];
      sw += v, sx += v * (x + 0.5), sy += v * (y + 0.5);
    }
  return {sx / sw, sy / sw};
}

// OpenCV's distortion model (k1 k2 p1 p2 [k3 [k4 k5 k6]], rational when k4..k6 are given)
// applied to normalised coordinates.
inline std::array<double, 2> distort(double x, double y, const std::vector<double>& d) {
  auto at = [&](size_t i) { return i < d.size() ? d[i] : 0.0; };
  const double r2 = x * x + y * y;
  const double radial = (1 + at(0) * r2 + at(1) * r2 * r2 + at(4) * r2 * r2 * r2) /
                        (1 + at(5) * r2 + at(6) * r2 * r2 + at(7) * r2 * r2 * r2);
  const double p1 = at(2), p2 = at(3);
  return {x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x),
          y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y};
}

// Projects a world point with a loaded camera; returns {u, v, z}.
inline std::array<double, 3> project(const Camera& c, const std::array<double, 3>& p) {
  const float* m = c.world_to_camera;
  double q[3];
  for (int i = 0; i < 3; ++i)
    q[i] = m[i * 4] * p[0] + m[i * 4 + 1] * p[1] + m[i * 4 + 2] * p[2] + m[i * 4 + 3];
  return {c.fx * q[0] / q[2] + c.cx, c.fy * q[1] / q[2] + c.cy, q[2]};
}

// ---- COLMAP models --------------------------------------------------------------------------

struct FixtureCamera {
  int id;
  int model_id;
  std::string model;
  uint64_t width, height;
  std::vector<double> params;
};
struct FixtureImage {
  int id;
  std::array<double, 4> q;  // w x y z
  std::array<double, 3> t;
  int camera_id;
  std::string name;
};
struct FixturePoint {
  uint64_t id;
  std::array<double, 3> xyz;
  std::array<uint8_t, 3> rgb;
};
struct FixtureModel {
  std::vector<FixtureCamera> cameras;
  std::vector<FixtureImage> images;
  std::vector<FixturePoint> points;
};

template <class T>
void put(std::ofstream& f, T v) {
  f.write(reinterpret_cast<const char*>(&v), sizeof(T));
}

inline void write_colmap_binary(const std::string& dir, const FixtureModel& m) {
  fs::create_directories(dir);
  {
    std::ofstream f(dir + "/cameras.bin", std::ios::binary);
    put<uint64_t>(f, m.cameras.size());
    for (const auto& c : m.cameras) {
      put<int32_t>(f, c.id);
      put<int32_t>(f, c.model_id);
      put<uint64_t>(f, c.width);
      put<uint64_t>(f, c.height);
      for (double p : c.params) put<double>(f, p);
    }
  }
  {
    std::ofstream f(dir + "/images.bin", std::ios::binary);
    put<uint64_t>(f, m.images.size());
    for (const auto& im : m.images) {
      put<int32_t>(f, im.id);
      for (double q : im.q) put<double>(f, q);
      for (double t : im.t) put<double>(f, t);
      put<int32_t>(f, im.camera_id);
      f.write(im.name.c_str(), std::streamsize(im.name.size() + 1));
      put<uint64_t>(f, 2);  // two observations, which the reader must skip
      for (int k = 0; k < 2; ++k) {
        put<double>(f, 1.5 * k);
        put<double>(f, 2.5);
        put<int64_t>(f, k == 0 ? -1 : 1);
      }
    }
  }
  {
    std::ofstream f(dir + "/points3D.bin", std::ios::binary);
    put<uint64_t>(f, m.points.size());
    for (const auto& p : m.points) {
      put<uint64_t>(f, p.id);
      for (double x : p.xyz) put<double>(f, x);
      for (uint8_t c : p.rgb) put<uint8_t>(f, c);
      put<double>(f, 0.5);
      put<uint64_t>(f, 1);  // track of one observation
      put<int32_t>(f, 1);
      put<int32_t>(f, 0);
    }
  }
}

inline std::string g17(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

inline void write_colmap_text(const std::string& dir, const FixtureModel& m) {
  fs::create_directories(dir);
  std::string cams =
      "# Camera list with one line of data per camera:\n"
      "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n";
  for (const auto& c : m.cameras) {
    cams += std::to_string(c.id) + " " + c.model + " " + std::to_string(c.width) + " " +
            std::to_string(c.height);
    for (double p : c.params) cams += " " + g17(p);
    cams += "\n";
  }
  write_text(dir + "/cameras.txt", cams);
  std::string ims = "# Image list with two lines of data per image:\n";
  for (size_t i = 0; i < m.images.size(); ++i) {
    const auto& im = m.images[i];
    ims += std::to_string(im.id);
    for (double q : im.q) ims += " " + g17(q);
    for (double t : im.t) ims += " " + g17(t);
    ims += " " + std::to_string(im.camera_id) + " " + im.name + "\n";
    // Alternate empty and non-empty observation lines: both occur in real files.
    ims += (i % 2 == 0) ? "\n" : "0 2.5 -1 1.5 2.5 1\n";
  }
  write_text(dir + "/images.txt", ims);
  std::string pts = "# 3D point list\n";
  for (const auto& p : m.points) {
    pts += std::to_string(p.id);
    for (double x : p.xyz) pts += " " + g17(x);
    for (uint8_t c : p.rgb) pts += " " + std::to_string(int(c));
    pts += " 0.5 1 0\n";
  }
  write_text(dir + "/points3D.txt", pts);
}

}  // namespace gs::test
