// COLMAP text models (cameras.txt, images.txt, points3D.txt): whitespace-separated lines after
// '#' comments; images.txt alternates a pose line with a (possibly empty) 2D-points line.
// Errors name the file and line number.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "datasets/colmap_reader.h"

namespace gs {
namespace fs = std::filesystem;

namespace {

struct Line {
  size_t number;
  std::string text;
};

std::vector<Line> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError(path + ": cannot open the file", "check the COLMAP model folder");
  std::vector<Line> lines;
  std::string s;
  for (size_t n = 1; std::getline(in, s); ++n) {
    if (!s.empty() && s.back() == '\r') s.pop_back();  // files written on Windows
    lines.push_back({n, s});
  }
  return lines;
}

bool is_blank_or_comment(const std::string& s) {
  const size_t p = s.find_first_not_of(" \t");
  return p == std::string::npos || s[p] == '#';
}

[[noreturn]] void bad_line(const std::string& path, size_t line, const std::string& what,
                           const char* layout) {
  throw IoError(path + ":" + std::to_string(line) + ": " + what,
                std::string("expected: ") + layout);
}

void read_cameras(const std::string& path, ColmapModel& model) {
  constexpr const char* kLayout = "CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]";
  model.cameras_file = path;
  for (const Line& l : read_lines(path)) {
    if (is_blank_or_comment(l.text)) continue;
    std::istringstream ss(l.text);
    ColmapCamera c;
    long long w = 0, h = 0;
    if (!(ss >> c.id >> c.model >> w >> h))
      bad_line(path, l.number, "cannot read camera id, model and size", kLayout);
    c.model_id = colmap_model_id(c.model);
    if (c.model_id < 0)
      throw IoError(path + ":" + std::to_string(l.number) + ": camera_id " + std::to_string(c.id) +
                        ": unknown camera model '" + c.model + "'",
                    "use a COLMAP model name: SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, RADIAL, "
                    "OPENCV, FULL_OPENCV");
    if (w <= 0 || h <= 0 || w > (1 << 20) || h > (1 << 20))
      bad_line(path, l.number, "implausible image size", kLayout);
    c.width = static_cast<int>(w);
    c.height = static_cast<int>(h);
    double v;
    while (ss >> v) c.params.push_back(v);
    if (!ss.eof()) bad_line(path, l.number, "a parameter is not a number", kLayout);
    const int np = colmap_model_param_count(c.model_id);
    if (static_cast<int>(c.params.size()) != np)
      bad_line(path, l.number,
               c.model + " takes " + std::to_string(np) + " parameters, got " +
                   std::to_string(c.params.size()),
               kLayout);
    model.cameras[c.id] = std::move(c);
  }
}

void read_images(const std::string& path, ColmapModel& model) {
  constexpr const char* kLayout =
      "IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME, then a line of POINTS2D";
  model.images_file = path;
  const std::vector<Line> lines = read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (is_blank_or_comment(lines[i].text)) continue;
    std::istringstream ss(lines[i].text);
    ColmapImage im;
    if (!(ss >> im.id >> im.qvec[0] >> im.qvec[1] >> im.qvec[2] >> im.qvec[3] >> im.tvec[0] >>
          im.tvec[1] >> im.tvec[2] >> im.camera_id >> im.name))
      bad_line(path, lines[i].number, "cannot read the image pose line", kLayout);
    // The 2D-points line always follows (it is empty for images without observations).
    ++i;
    model.images.push_back(std::move(im));
  }
}

void read_points(const std::string& path, ColmapModel& model) {
  constexpr const char* kLayout = "POINT3D_ID X Y Z R G B ERROR TRACK[]";
  model.points_file = path;
  for (const Line& l : read_lines(path)) {
    if (is_blank_or_comment(l.text)) continue;
    std::istringstream ss(l.text);
    long long id;
    ColmapPoint p;
    int rgb[3];
    if (!(ss >> id >> p.xyz[0] >> p.xyz[1] >> p.xyz[2] >> rgb[0] >> rgb[1] >> rgb[2]))
      bad_line(path, l.number, "cannot read the point", kLayout);
    for (int k = 0; k < 3; ++k) {
      if (rgb[k] < 0 || rgb[k] > 255) bad_line(path, l.number, "colour outside 0..255", kLayout);
      p.rgb[k] = static_cast<uint8_t>(rgb[k]);
    }
    model.points.push_back(p);
  }
}

}  // namespace

ColmapModel read_colmap_text(const std::string& dir) {
  const fs::path d(dir);
  ColmapModel model;
  read_cameras((d / "cameras.txt").string(), model);
  const std::string images = (d / "images.txt").string();
  std::error_code ec;
  if (!fs::is_regular_file(images, ec))
    throw IoError(images + ": not found (cameras.txt is there)",
                  "a COLMAP model has cameras, images and points3D files");
  read_images(images, model);
  const std::string points = (d / "points3D.txt").string();
  if (fs::is_regular_file(points, ec)) read_points(points, model);
  return model;
}

}  // namespace gs
