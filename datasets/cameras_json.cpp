// Reading, validating and writing the JSON camera list of cameras_json.h.
#include "datasets/cameras_json.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/errors.h"

namespace gs {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kSchemaHint =
    "each camera needs name (string), width and height (positive integers), fx fy (positive) "
    "cx cy (numbers) in pixels, and world_to_camera: 4 rows of 4 numbers forming a rigid "
    "transform [R t; 0 0 0 1] in OpenCV axes (see datasets/cameras_json.h)";

// Images larger than this per side are certainly a units mistake (and would allocate gigabytes).
constexpr int kMaxImageSide = 32768;

struct Where {
  const std::string& path;
  size_t index;
  std::string name;
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    std::string who = "camera " + std::to_string(index);
    if (!name.empty()) who += " ('" + name + "')";
    throw IoError(path + ": " + who + ": field '" + field + "' " + what, kSchemaHint);
  }
};

std::string type_name(const json& v) { return v.is_null() ? "null" : std::string(v.type_name()); }

const json& require(const json& cam, const char* field, const Where& w) {
  const auto it = cam.find(field);
  if (it == cam.end()) w.fail(field, "is missing");
  return *it;
}

double number(const json& cam, const char* field, const Where& w) {
  const json& v = require(cam, field, w);
  if (!v.is_number()) w.fail(field, "must be a number, got " + type_name(v) + " " + v.dump());
  const double d = v.get<double>();
  if (!std::isfinite(d)) w.fail(field, "must be finite, got " + v.dump());
  return d;
}

int positive_int(const json& cam, const char* field, const Where& w) {
  const json& v = require(cam, field, w);
  double d = 0;
  if (v.is_number_integer() || v.is_number_unsigned()) {
    d = v.get<double>();
  } else if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) {
    d = v.get<double>();  // 1280.0 is a fine width
  } else {
    w.fail(field, "must be a positive integer, got " + type_name(v) + " " + v.dump());
  }
  if (d <= 0) w.fail(field, "must be positive, got " + v.dump());
  if (d > kMaxImageSide)
    w.fail(field, "is " + v.dump() + ", more than the supported " +
                      std::to_string(kMaxImageSide) + " pixels");
  return static_cast<int>(d);
}

void read_matrix(const json& cam, const Where& w, float out[16]) {
  const char* field = "world_to_camera";
  const json& m = require(cam, field, w);
  if (!m.is_array() || m.size() != 4)
    w.fail(field, "must be 4 rows of 4 numbers, got " + type_name(m) +
                      (m.is_array() ? " of " + std::to_string(m.size()) + " rows" : ""));
  double a[16];
  for (int r = 0; r < 4; ++r) {
    const json& row = m[static_cast<size_t>(r)];
    if (!row.is_array() || row.size() != 4)
      w.fail(field, "row " + std::to_string(r) + " must be 4 numbers, got " + row.dump());
    for (int c = 0; c < 4; ++c) {
      const json& v = row[static_cast<size_t>(c)];
      if (!v.is_number())
        w.fail(field, "entry [" + std::to_string(r) + "][" + std::to_string(c) +
                          "] must be a number, got " + v.dump());
      a[r * 4 + c] = v.get<double>();
      if (!std::isfinite(a[r * 4 + c]))
        w.fail(field, "entry [" + std::to_string(r) + "][" + std::to_string(c) +
                          "] is not finite");
    }
  }
  constexpr double kTol = 1e-3;  // float32 exports of rotations are good to ~1e-6
  if (std::abs(a[12]) > kTol || std::abs(a[13]) > kTol || std::abs(a[14]) > kTol ||
      std::abs(a[15] - 1) > kTol)
    w.fail(field, "last row must be [0, 0, 0, 1]");
  double worst = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      double dot = 0;
      for (int k = 0; k < 3; ++k) dot += a[k * 4 + i] * a[k * 4 + j];
      worst = std::max(worst, std::abs(dot - (i == j ? 1.0 : 0.0)));
    }
  const double det = a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) +
                     a[2] * (a[4] * a[9] - a[5] * a[8]);
  if (worst > kTol || det < 0)
    w.fail(field, "is not rigid: its 3×3 part must be a rotation (orthonormal, det +1); got " +
                      std::string(det < 0 ? "a reflection" : "scale or shear") +
                      " (max |RᵀR − I| = " + std::to_string(worst) + ")");
  for (int i = 0; i < 16; ++i) out[i] = static_cast<float>(a[i]);
}

bool safe_file_name(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 200) return false;
  for (const char c : name)
    if (c == '/' || c == '\\' || c == '\0' || static_cast<unsigned char>(c) < 32) return false;
  return true;
}

}  // namespace

std::vector<Camera> read_cameras_json(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw IoError(path + ": camera file not found", "check the path to the cameras JSON");
  if (fs::is_directory(path, ec))
    throw IoError(path + ": is a directory, not a cameras JSON file", "pass the .json file");
  std::ifstream in(path);
  if (!in) throw IoError(path + ": cannot open for reading", "check the file permissions");
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    throw IoError(path + ": invalid JSON (byte " + std::to_string(e.byte) + "): " + e.what(),
                  "fix the JSON syntax (a linter such as `python3 -m json.tool` shows where)");
  } catch (const json::exception& e) {  // e.g. a number literal that overflows a double
    throw IoError(path + ": invalid JSON: " + e.what(), "fix the value the message names");
  }
  if (!doc.is_object() || !doc.contains("cameras"))
    throw IoError(path + ": expected an object with a \"cameras\" array at the top level",
                  kSchemaHint);
  const json& list = doc["cameras"];
  if (!list.is_array())
    throw IoError(path + ": \"cameras\" must be an array, got " + type_name(list), kSchemaHint);
  if (list.empty())
    throw IoError(path + ": \"cameras\" is empty", "add at least one camera");

  std::vector<Camera> cameras;
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& cam = list[i];
    Where w{path, i, ""};
    if (!cam.is_object())
      throw IoError(path + ": camera " + std::to_string(i) + " must be an object, got " +
                        type_name(cam),
                    kSchemaHint);
    const json& name = require(cam, "name", w);
    if (!name.is_string()) w.fail("name", "must be a string, got " + name.dump());
    Camera c;
    c.name = name.get<std::string>();
    w.name = c.name;
    if (!safe_file_name(c.name))
      w.fail("name", "must be a non-empty file name without '/' or control characters");
    if (!names.insert(c.name).second) w.fail("name", "repeats an earlier camera's name");
    c.width = positive_int(cam, "width", w);
    c.height = positive_int(cam, "height", w);
    for (const char* f : {"fx", "fy"}) {
      const double v = number(cam, f, w);
      if (v <= 0) w.fail(f, "must be positive (a focal length in pixels), got " + std::to_string(v));
      (f[1] == 'x' ? c.fx : c.fy) = static_cast<float>(v);
    }
    c.cx = static_cast<float>(number(cam, "cx", w));
    c.cy = static_cast<float>(number(cam, "cy", w));
    read_matrix(cam, w, c.world_to_camera);
    cameras.push_back(std::move(c));
  }
  return cameras;
}

void write_cameras_json(const std::string& path, const std::vector<Camera>& cameras) {
  json list = json::array();
  for (const Camera& c : cameras) {
    json m = json::array();
    for (int r = 0; r < 4; ++r)
      m.push_back({c.world_to_camera[r * 4 + 0], c.world_to_camera[r * 4 + 1],
                   c.world_to_camera[r * 4 + 2], c.world_to_camera[r * 4 + 3]});
    list.push_back({{"name", c.name},
                    {"width", c.width},
                    {"height", c.height},
                    {"fx", c.fx},
                    {"fy", c.fy},
                    {"cx", c.cx},
                    {"cy", c.cy},
                    {"world_to_camera", m}});
  }
  const json doc = {{"cameras", list}};
  const std::string text = doc.dump(2) + "\n";

  write_file_atomic(path, text);
}

}  // namespace gs
