// In-memory image decoding and encoding through the header-only stb library (stb_image,
// stb_image_write), which replaced OpenCV's imgcodecs: that module pulls in GDAL and some 150
// shared libraries. Only bytes in, bytes out: callers read and write the files themselves so
// that every failure becomes a gs::IoError naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gs {

// Frees a pixel buffer allocated by the decoder.
struct DecodedPixelsFree {
  void operator()(void* p) const;
};

// A decoded image: row-major, interleaved, channel order grey / grey+alpha / RGB / RGBA (stb
// expands palettes, and tRNS transparency into an alpha channel). Alpha is straight.
struct DecodedImage {
  int width = 0, height = 0;
  int channels = 0;  // 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA)
  int bits = 0;      // 8 or 16 per channel; 16 only for 16-bit PNG (and PNM/PSD) files
  std::unique_ptr<void, DecodedPixelsFree> pixels;  // height × width × channels samples

  const uint8_t* data8() const { return static_cast<const uint8_t*>(pixels.get()); }
  const uint16_t* data16() const { return static_cast<const uint16_t*>(pixels.get()); }
};

// Decodes a PNG, JPEG, BMP, TGA, GIF (first frame), PSD, PNM or HDR file held in memory, with
// the file's own channel count and bit depth (16-bit PNGs stay 16-bit). EXIF orientation is
// ignored. Returns false with a short reason from the decoder (e.g. "unknown image type",
// "bad png sig") when the bytes cannot be decoded.
bool decode_image(const void* bytes, size_t size, DecodedImage& out, std::string& reason);

// Encodes 8-bit interleaved pixels (channels 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; rows packed)
// as a PNG / a baseline JPEG of `quality` 1..100 (alpha dropped). Returns an empty vector on
// failure (bad size or channel count, out of memory).
std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels);
std::vector<uint8_t> encode_jpeg(const uint8_t* pixels, int width, int height, int channels,
                                 int quality = 95);

}  // namespace gs
