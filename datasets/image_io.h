// Image files <-> float pixel buffers: PNG/JPG reading for datasets, PNG writing for renders.
// Pixels are interleaved, row-major (H×W×C), channel order RGB(A), values in [0, 1].
#pragma once

#include <string>
#include <vector>

namespace gs {

struct Image {
  int width = 0, height = 0;
  int channels = 0;           // 3 (RGB) or 4 (RGBA)
  std::vector<float> pixels;  // height × width × channels
};

// Reads a PNG, JPEG (or any other format stb_image decodes: BMP, TGA, GIF, PSD, PNM) as float
// RGB, or RGBA when the file has an alpha channel; grey images become RGB, grey + alpha RGBA.
// 8- and 16-bit files are scaled to [0, 1].
// Throws gs::IoError naming the file when it is missing or cannot be decoded.
Image read_image(const std::string& path);

// Writes an H×W×channels float buffer (channels 1, 3 or 4; values clamped to [0, 1], NaN as 0)
// as an 8-bit PNG, atomically (to `path`.tmp, then renamed). The parent directory must exist.
void write_png(const std::string& path, const float* pixels, int width, int height,
               int channels = 3);
inline void write_png(const std::string& path, const Image& image) {
  write_png(path, image.pixels.data(), image.width, image.height, image.channels);
}

}  // namespace gs
