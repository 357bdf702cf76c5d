// Field-level JSON access shared by the NeRF-synthetic and instant-ngp loaders.
#include "datasets/json_fields.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.h"

namespace gs {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
std::string join(const std::string& parent, const char* key) {
  return parent.empty() ? std::string(key) : parent + "." + key;
}
}  // namespace

json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open the file", "check the dataset path");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // nlohmann reports a byte offset; people fix files by line and column.
    size_t line = 1, col = 1;
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw IoError(path + ": invalid JSON at line " + std::to_string(line) + ", column " +
                      std::to_string(col) + ": " + e.what(),
                  "fix the syntax (a JSON validator shows the exact spot)");
  }
}

void throw_field_error(const std::string& file, const std::string& field,
                       const std::string& problem, const std::string& hint) {
  throw IoError(file + ": " + field + ": " + problem, hint);
}

std::optional<double> json_optional_number(const json& object, const char* key,
                                           const std::string& file, const std::string& parent) {
  if (!object.is_object())
    throw_field_error(file, parent, "expected an object", "see docs/datasets.md");
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_number())
    throw_field_error(file, join(parent, key), "expected a number, got " + it->dump(),
                      "see docs/datasets.md for the expected fields");
  const double v = it->get<double>();
  if (!std::isfinite(v))
    throw_field_error(file, join(parent, key), "not a finite number", "fix the value");
  return v;
}

double json_number(const json& object, const char* key, const std::string& file,
                   const std::string& parent) {
  const auto v = json_optional_number(object, key, file, parent);
  if (!v)
    throw_field_error(file, join(parent, key), "missing", "add the field (see docs/datasets.md)");
  return *v;
}

std::string json_string(const json& object, const char* key, const std::string& file,
                        const std::string& parent) {
  if (!object.is_object())
    throw_field_error(file, parent, "expected an object", "see docs/datasets.md");
  const auto it = object.find(key);
  if (it == object.end())
    throw_field_error(file, join(parent, key), "missing", "add the field (see docs/datasets.md)");
  if (!it->is_string())
    throw_field_error(file, join(parent, key), "expected a string, got " + it->dump(),
                      "see docs/datasets.md for the expected fields");
  return it->get<std::string>();
}

std::array<double, 16> json_matrix4(const json& object, const char* key, const std::string& file,
                                    const std::string& parent) {
  if (!object.is_object())
    throw_field_error(file, parent, "expected an object", "see docs/datasets.md");
  const std::string field = join(parent, key);
  const auto it = object.find(key);
  if (it == object.end())
    throw_field_error(file, field, "missing", "add the 4x4 camera-to-world matrix");
  const json& m = *it;
  const bool rows_ok = m.is_array() && (m.size() == 4 || m.size() == 3);
  bool ok = rows_ok;
  for (size_t r = 0; ok && r < m.size(); ++r) {
    ok = m[r].is_array() && m[r].size() == 4;
    for (size_t c = 0; ok && c < 4; ++c) ok = m[r][c].is_number();
  }
  if (!ok)
    throw_field_error(file, field, "expected 4x4 numbers",
                      "write the camera-to-world matrix as 4 rows of 4 numbers");
  std::array<double, 16> out{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  for (size_t r = 0; r < m.size(); ++r)
    for (size_t c = 0; c < 4; ++c) {
      out[r * 4 + c] = m[r][c].get<double>();
      if (!std::isfinite(out[r * 4 + c]))
        throw_field_error(file, field, "contains a non-finite number", "fix the matrix");
    }
  return out;
}

void set_pose_from_opengl_c2w(Camera& camera, const std::array<double, 16>& c2w,
                              const std::string& file, const std::string& field) {
  // The rotation must be orthonormal: a scaled matrix would silently change the geometry.
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      double dot = 0;
      for (int r = 0; r < 3; ++r) dot += c2w[r * 4 + a] * c2w[r * 4 + b];
      if (std::abs(dot - (a == b ? 1.0 : 0.0)) > 1e-3)
        throw_field_error(file, field, "the 3x3 part is not a rotation (columns not orthonormal)",
                          "write a rigid camera-to-world transform; put scale in the positions");
    }
  float pose[16];
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      // OpenGL camera axes → OpenCV: negate the camera's y and z axes (columns 1 and 2).
      const double sign = (r < 3 && (c == 1 || c == 2)) ? -1.0 : 1.0;
      pose[r * 4 + c] = static_cast<float>(sign * c2w[r * 4 + c]);
    }
  pose[12] = pose[13] = pose[14] = 0;
  pose[15] = 1;
  set_camera_to_world(camera, pose);
}

std::string resolve_image_path(const std::string& dir, const std::string& file_path,
                               const std::string& file, const std::string& field) {
  const fs::path base = fs::path(dir) / file_path;
  std::error_code ec;
  if (fs::is_regular_file(base, ec)) return base.lexically_normal().string();
  for (const char* ext : {".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG"}) {
    fs::path p = base;
    p += ext;
    if (fs::is_regular_file(p, ec)) return p.lexically_normal().string();
  }
  throw_field_error(file, field,
                    "image not found: " + base.lexically_normal().string() +
                        (base.has_extension() ? "" : "(.png|.jpg|.jpeg)"),
                    "file_path is relative to the JSON file's folder; check that the images "
                    "were copied with it");
}

}  // namespace gs
