// COLMAP binary models (cameras.bin, images.bin, points3D.bin): little-endian records, every
// read bounds-checked so a truncated or corrupt file names the record it broke in.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/errors.h"
#include "datasets/colmap_reader.h"

namespace gs {
namespace fs = std::filesystem;

namespace {

class BinaryFile {
 public:
  explicit BinaryFile(std::string path) : path_(std::move(path)) {
    std::ifstream in(path_, std::ios::binary);
    if (!in) throw IoError(path_ + ": cannot open the file", "check the COLMAP model folder");
    data_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string& path() const { return path_; }
  size_t remaining() const { return data_.size() - pos_; }
  // What is being read, for errors: record kind and index (formatted only on failure).
  void at(const char* record, size_t index) {
    record_ = record;
    index_ = index;
  }

  template <class T>
  T read(const char* field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  void skip(uint64_t bytes, const char* field) {
    need(bytes, field);
    pos_ += bytes;
  }
  std::string read_cstring(const char* field) {
    const void* end = std::memchr(data_.data() + pos_, '\0', remaining());
    if (!end) fail("truncated", field);
    const char* begin = data_.data() + pos_;
    std::string s(begin, static_cast<const char*>(end));
    pos_ += s.size() + 1;
    return s;
  }
  // A record count, checked against the bytes left so corrupt counts fail before allocating.
  uint64_t read_count(const char* field, uint64_t min_record_bytes) {
    const uint64_t n = read<uint64_t>(field);
    if (min_record_bytes && n > remaining() / min_record_bytes) fail("truncated", field, n);
    return n;
  }
  [[noreturn]] void fail(const char* problem, const char* field, uint64_t count = 0) const {
    std::string where = record_ ? std::string(record_) + "[" + std::to_string(index_) + "]." : "";
    std::string what = path_ + ": " + problem + " at byte " + std::to_string(pos_) +
                       " while reading " + where + field;
    if (count) what += " (count " + std::to_string(count) + ")";
    throw IoError(what,
                  "the file is incomplete or corrupt: re-export the model (COLMAP "
                  "model_converter), or use the text model");
  }

 private:
  void need(uint64_t bytes, const char* field) const {
    if (bytes > remaining()) fail("truncated", field);
  }
  std::string path_;
  std::vector<char> data_;
  size_t pos_ = 0;
  const char* record_ = nullptr;
  size_t index_ = 0;
};

void read_cameras(const std::string& path, ColmapModel& model) {
  BinaryFile f(path);
  model.cameras_file = path;
  const uint64_t n = f.read_count("num_cameras", 24);
  for (uint64_t i = 0; i < n; ++i) {
    f.at("cameras", i);
    ColmapCamera c;
    c.id = f.read<int32_t>("camera_id");
    c.model_id = f.read<int32_t>("model_id");
    const int np = colmap_model_param_count(c.model_id);
    if (np < 0)
      throw IoError(path + ": camera_id " + std::to_string(c.id) + ": unknown camera model id " +
                        std::to_string(c.model_id),
                    "the file is corrupt or from a newer COLMAP; export PINHOLE/OPENCV cameras "
                    "(colmap image_undistorter) or a text model");
    c.model = colmap_model_name(c.model_id);
    const uint64_t w = f.read<uint64_t>("width"), h = f.read<uint64_t>("height");
    if (w == 0 || h == 0 || w > (1u << 20) || h > (1u << 20))
      throw IoError(path + ": camera_id " + std::to_string(c.id) + ": implausible image size " +
                        std::to_string(w) + "x" + std::to_string(h),
                    "the file is corrupt: re-export the model");
    c.width = static_cast<int>(w);
    c.height = static_cast<int>(h);
    c.params.resize(np);
    for (int k = 0; k < np; ++k) c.params[k] = f.read<double>("params");
    model.cameras[c.id] = std::move(c);
  }
}

void read_images(const std::string& path, ColmapModel& model) {
  BinaryFile f(path);
  model.images_file = path;
  const uint64_t n = f.read_count("num_reg_images", 4 + 56 + 4 + 1 + 8);
  model.images.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    f.at("images", i);
    ColmapImage im;
    im.id = f.read<int32_t>("image_id");
    for (double& q : im.qvec) q = f.read<double>("qvec");
    for (double& t : im.tvec) t = f.read<double>("tvec");
    im.camera_id = f.read<int32_t>("camera_id");
    im.name = f.read_cstring("name");
    const uint64_t n2d = f.read_count("num_points2D", 24);
    f.skip(n2d * 24, "points2D");  // x, y (double) and point3D_id (int64) each
    model.images.push_back(std::move(im));
  }
}

void read_points(const std::string& path, ColmapModel& model) {
  BinaryFile f(path);
  model.points_file = path;
  const uint64_t n = f.read_count("num_points", 8 + 24 + 3 + 8 + 8);
  model.points.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    f.at("points3D", i);
    ColmapPoint p;
    f.read<uint64_t>("point3D_id");
    for (double& x : p.xyz) x = f.read<double>("xyz");
    for (uint8_t& c : p.rgb) c = f.read<uint8_t>("rgb");
    f.read<double>("error");
    const uint64_t track = f.read_count("track_length", 8);
    f.skip(track * 8, "track");  // image_id, point2D_idx (int32 each)
    model.points.push_back(p);
  }
}

}  // namespace

ColmapModel read_colmap_binary(const std::string& dir) {
  const fs::path d(dir);
  ColmapModel model;
  read_cameras((d / "cameras.bin").string(), model);
  const std::string images = (d / "images.bin").string();
  std::error_code ec;
  if (!fs::is_regular_file(images, ec))
    throw IoError(images + ": not found (cameras.bin is there)",
                  "a COLMAP model has cameras, images and points3D files");
  read_images(images, model);
  const std::string points = (d / "points3D.bin").string();
  if (fs::is_regular_file(points, ec)) read_points(points, model);
  return model;
}

}  // namespace gs
