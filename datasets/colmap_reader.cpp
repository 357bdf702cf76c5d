// COLMAP's camera-model table and the choice between the binary and the text model.
#include "datasets/colmap_reader.h"

#include <filesystem>

#include "core/errors.h"

namespace gs {
namespace fs = std::filesystem;

namespace {
struct ModelInfo {
  const char* name;
  int params;
};
// Indexed by COLMAP's model id (src/colmap/sensor/models.h numbering).
constexpr ModelInfo kModels[] = {{"SIMPLE_PINHOLE", 3},
                                 {"PINHOLE", 4},
                                 {"SIMPLE_RADIAL", 4},
                                 {"RADIAL", 5},
                                 {"OPENCV", 8},
                                 {"OPENCV_FISHEYE", 8},
                                 {"FULL_OPENCV", 12},
                                 {"FOV", 5},
                                 {"SIMPLE_RADIAL_FISHEYE", 4},
                                 {"RADIAL_FISHEYE", 5},
                                 {"THIN_PRISM_FISHEYE", 12}};
constexpr int kNumModels = static_cast<int>(sizeof(kModels) / sizeof(kModels[0]));
}  // namespace

int colmap_model_id(const std::string& name) {
  for (int i = 0; i < kNumModels; ++i)
    if (name == kModels[i].name) return i;
  return -1;
}
const char* colmap_model_name(int id) {
  return id >= 0 && id < kNumModels ? kModels[id].name : nullptr;
}
int colmap_model_param_count(int id) {
  return id >= 0 && id < kNumModels ? kModels[id].params : -1;
}

bool has_colmap_model(const std::string& dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / "cameras.bin", ec) ||
         fs::is_regular_file(fs::path(dir) / "cameras.txt", ec);
}

ColmapModel read_colmap_model(const std::string& dir) {
  std::error_code ec;
  if (fs::is_regular_file(fs::path(dir) / "cameras.bin", ec)) return read_colmap_binary(dir);
  if (fs::is_regular_file(fs::path(dir) / "cameras.txt", ec)) return read_colmap_text(dir);
  throw IoError(dir + ": no COLMAP model (cameras.bin or cameras.txt)",
                "point at the folder that holds sparse/0/ (or the model folder itself)");
}

}  // namespace gs
