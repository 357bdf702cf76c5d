// Parsing COLMAP sparse models (cameras, images, points3D) in COLMAP's binary (.bin) and text
// (.txt) formats into one in-memory form. Only what training needs is kept (2D observations and
// point tracks are skipped).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gs {

struct ColmapCamera {
  int id = 0;
  int model_id = -1;  // COLMAP's numbering (0 SIMPLE_PINHOLE … 10 THIN_PRISM_FISHEYE)
  std::string model;  // its name
  int width = 0, height = 0;
  std::vector<double> params;  // in COLMAP's order for the model
};

struct ColmapImage {
  int id = 0;
  std::array<double, 4> qvec{1, 0, 0, 0};  // world→camera rotation, (w, x, y, z)
  std::array<double, 3> tvec{0, 0, 0};     // world→camera translation
  int camera_id = 0;
  std::string name;  // path relative to the images folder
};

struct ColmapPoint {
  std::array<double, 3> xyz{0, 0, 0};
  std::array<uint8_t, 3> rgb{0, 0, 0};
};

struct ColmapModel {
  std::string cameras_file, images_file, points_file;  // points_file empty when absent
  std::map<int, ColmapCamera> cameras;                 // by camera id
  std::vector<ColmapImage> images;                     // in file order
  std::vector<ColmapPoint> points;
};

// COLMAP's camera models: name ↔ id and parameter count; -1 / nullptr when unknown.
int colmap_model_id(const std::string& name);
const char* colmap_model_name(int id);
int colmap_model_param_count(int id);

// True when `dir` holds cameras.bin or cameras.txt.
bool has_colmap_model(const std::string& dir);

// Reads the model in `dir`: the .bin files when cameras.bin exists, else the .txt files.
// points3D is optional. Throws gs::IoError naming the file and what is wrong (truncation,
// unknown camera model with its id, bad line with its number).
ColmapModel read_colmap_model(const std::string& dir);
ColmapModel read_colmap_binary(const std::string& dir);
ColmapModel read_colmap_text(const std::string& dir);

}  // namespace gs
