// The plain files of the street layout: pose and intrinsics text files, LiDAR .bin sweeps, and
// the small 4×4 algebra the loader composes poses with.
#include "datasets/street_files.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.h"

namespace gs {
namespace fs = std::filesystem;

Matrix4d multiply(const Matrix4d& a, const Matrix4d& b) {
  Matrix4d out{};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      double s = 0;
      for (int k = 0; k < 4; ++k) s += a[r * 4 + k] * b[k * 4 + c];
      out[r * 4 + c] = s;
    }
  return out;
}

Matrix4d rigid_inverse(const Matrix4d& m) {
  Matrix4d out{};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) out[r * 4 + c] = m[c * 4 + r];
    out[r * 4 + 3] = -(m[0 * 4 + r] * m[3] + m[1 * 4 + r] * m[7] + m[2 * 4 + r] * m[11]);
  }
  out[15] = 1;
  return out;
}

std::array<float, 16> to_float(const Matrix4d& m) {
  std::array<float, 16> out{};
  for (int i = 0; i < 16; ++i) out[i] = static_cast<float>(m[i]);
  return out;
}

std::array<double, 3> transform_point(const Matrix4d& m, double x, double y, double z) {
  return {m[0] * x + m[1] * y + m[2] * z + m[3], m[4] * x + m[5] * y + m[6] * z + m[7],
          m[8] * x + m[9] * y + m[10] * z + m[11]};
}

std::string rigid_problem(const Matrix4d& m) {
  for (double v : m)
    if (!std::isfinite(v)) return "contains a non-finite number";
  if (std::abs(m[12]) + std::abs(m[13]) + std::abs(m[14]) + std::abs(m[15] - 1) > 1e-6)
    return "the last row is not 0 0 0 1";
  // A scaled or sheared matrix would silently distort the geometry; 1e-3 admits the rounding of
  // poses written with a few decimals.
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      double dot = 0;
      for (int r = 0; r < 3; ++r) dot += m[r * 4 + a] * m[r * 4 + b];
      if (std::abs(dot - (a == b ? 1.0 : 0.0)) > 1e-3)
        return "the 3×3 part is not a rotation (columns not orthonormal)";
    }
  return "";
}

std::string frame_stem(int frame) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%03d", frame);
  return buf;
}

std::string view_stem(int frame, int camera_id) {
  return frame_stem(frame) + "_" + std::to_string(camera_id);
}

namespace {

std::string read_text_file(const std::string& path, const char* what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw IoError(path + ": " + what + " not found",
                  "every selected frame and camera needs its file (docs/street_format.md)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open the file", "check file permissions");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every whitespace-separated token of the file as a number; IoError naming the first token
// that is not one.
std::vector<double> read_numbers(const std::string& path, const char* what) {
  const std::string text = read_text_file(path, what);
  std::istringstream tokens(text);
  std::vector<double> values;
  std::string token;
  while (tokens >> token) {
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(token.c_str(), &end);
    if (end != token.c_str() + token.size() || errno == ERANGE || !std::isfinite(v))
      throw IoError(path + ": number " + std::to_string(values.size() + 1) + " is '" + token +
                        "', not a finite number",
                    "the file holds whitespace-separated numbers only");
    values.push_back(v);
  }
  return values;
}

}  // namespace

Matrix4d read_pose_file(const std::string& path) {
  const std::vector<double> v = read_numbers(path, "pose file");
  if (v.size() != 16)
    throw IoError(
        path + ": expected 16 numbers (a 4×4 matrix, row-major), found " + std::to_string(v.size()),
        "write the matrix as 4 rows of 4 numbers");
  Matrix4d m{};
  std::copy(v.begin(), v.end(), m.begin());
  const std::string problem = rigid_problem(m);
  if (!problem.empty())
    throw IoError(path + ": not a rigid transform: " + problem,
                  "poses must be rotation + translation, without scale");
  return m;
}

StreetIntrinsics read_intrinsics_file(const std::string& path) {
  const std::vector<double> v = read_numbers(path, "intrinsics file");
  if (v.size() != 9)
    throw IoError(path + ": expected 9 numbers (fu fv cu cv k1 k2 p1 p2 k3), found " +
                      std::to_string(v.size()),
                  "see docs/street_format.md");
  if (!(v[0] > 0 && v[1] > 0))
    throw IoError(path + ": the focal lengths fu, fv must be positive, got " +
                      std::to_string(v[0]) + ", " + std::to_string(v[1]),
                  "fu fv are in pixels at the resolution of images/");
  StreetIntrinsics in;
  in.fx = v[0], in.fy = v[1], in.cx = v[2], in.cy = v[3];
  in.distortion.assign(v.begin() + 4, v.end());
  return in;
}

LidarSweep read_lidar_sweep(const std::string& path, const Matrix4d& vehicle_to_world,
                            size_t max_points) {
  constexpr size_t kColumns = 14, kRowBytes = kColumns * sizeof(float);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw IoError(path + ": LiDAR sweep not found",
                  "every selected frame needs lidar/{t:03d}.bin, or turn LiDAR loading off");
  const uintmax_t bytes = fs::file_size(path, ec);
  if (ec) throw IoError(path + ": cannot read the file size: " + ec.message(), "check the file");
  if (bytes % kRowBytes != 0)
    throw IoError(path + ": truncated: " + std::to_string(bytes) + " bytes is not a multiple of " +
                      std::to_string(kRowBytes) + " (14 float32 per point)",
                  "re-export the sweep (float32 N×14: origin, point, flow, class, ground, "
                  "intensity, elongation, laser id)");
  const size_t rows = static_cast<size_t>(bytes / kRowBytes);
  std::vector<float> raw(rows * kColumns);
  std::ifstream in(path, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(bytes)))
    throw IoError(path + ": cannot read " + std::to_string(bytes) + " bytes", "check the file");

  // Every k-th row rather than the first max_points: a sweep is stored laser by laser, so a
  // prefix would keep one part of the scene only.
  const size_t stride =
      (max_points > 0 && rows > max_points) ? (rows + max_points - 1) / max_points : 1;
  LidarSweep sweep;
  sweep.origins.reserve(3 * (rows / stride + 1));
  sweep.points.reserve(3 * (rows / stride + 1));
  for (size_t i = 0; i < rows; i += stride) {
    const float* row = &raw[i * kColumns];
    for (int k = 0; k < 6; ++k)
      if (!std::isfinite(row[k]))
        throw IoError(path + ": point " + std::to_string(i) + " has a non-finite coordinate",
                      "remove invalid returns when exporting the sweep");
    const auto o = transform_point(vehicle_to_world, row[0], row[1], row[2]);
    const auto p = transform_point(vehicle_to_world, row[3], row[4], row[5]);
    for (int k = 0; k < 3; ++k) {
      sweep.origins.push_back(static_cast<float>(o[k]));
      sweep.points.push_back(static_cast<float>(p[k]));
    }
  }
  return sweep;
}

}  // namespace gs
