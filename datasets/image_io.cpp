// Image reading and PNG writing through the stb codecs (datasets/image_codec.h). Files are read
// and written as bytes here so that every failure becomes a gs::IoError naming the file.
#include "datasets/image_io.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "datasets/image_codec.h"

namespace gs {
namespace fs = std::filesystem;

Image read_image(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw IoError(path + ": image not found", "check the path");
  if (fs::is_directory(path, ec))
    throw IoError(path + ": is a directory, not an image", "pass the image file itself");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open the image for reading", "check file permissions");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  if (bytes.empty()) throw IoError(path + ": the image file is empty", "re-export the image");

  DecodedImage m;
  std::string reason;
  if (!decode_image(bytes.data(), bytes.size(), m, reason))
    throw IoError(path + ": cannot decode the image (not a PNG/JPEG, or corrupt/truncated: " +
                      reason + ")",
                  "use an 8- or 16-bit PNG or a JPEG");

  const int in_channels = m.channels;
  Image img;
  img.width = m.width;
  img.height = m.height;
  // Grey becomes RGB, grey + alpha RGBA (as OpenCV's imgcodecs, used before, read them).
  img.channels = (in_channels == 2 || in_channels == 4) ? 4 : 3;
  const size_t n = static_cast<size_t>(img.width) * img.height;
  img.pixels.resize(n * img.channels);
  auto convert = [&](const auto* src, float max) {  // divide: 255 / 255.f is exactly 1
    for (size_t i = 0; i < n; ++i) {
      const auto* s = src + i * in_channels;
      float* d = &img.pixels[i * img.channels];
      switch (in_channels) {
        case 1: d[0] = d[1] = d[2] = s[0] / max; break;
        case 2:
          d[0] = d[1] = d[2] = s[0] / max;
          d[3] = s[1] / max;
          break;
        default:  // stb gives RGB(A)
          d[0] = s[0] / max;
          d[1] = s[1] / max;
          d[2] = s[2] / max;
          if (in_channels == 4) d[3] = s[3] / max;
      }
    }
  };
  if (m.bits == 16)
    convert(m.data16(), 65535.f);
  else
    convert(m.data8(), 255.f);
  return img;
}

void write_png(const std::string& path, const float* pixels, int width, int height,
               int channels) {
  if (width <= 0 || height <= 0 || !pixels)
    throw IoError(path + ": cannot write an empty image (" + std::to_string(width) + "x" +
                  std::to_string(height) + ")");
  if (channels != 1 && channels != 3 && channels != 4)
    throw IoError(path + ": cannot write an image with " + std::to_string(channels) +
                  " channels; PNG output takes 1, 3 or 4");
  std::vector<uint8_t> bytes(static_cast<size_t>(width) * height * channels);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const float v = pixels[i];
    bytes[i] = !(v > 0.f) ? uint8_t{0}  // also NaN
               : v >= 1.f ? uint8_t{255}
                          : static_cast<uint8_t>(std::lround(v * 255.f));
  }
  const std::vector<uint8_t> encoded = encode_png(bytes.data(), width, height, channels);
  if (encoded.empty()) throw IoError(path + ": PNG encoding failed");

  write_file_atomic(path, encoded.data(), encoded.size());
}

}  // namespace gs
