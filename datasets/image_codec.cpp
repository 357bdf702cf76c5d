// stb-backed image decoding and encoding (see image_codec.h). The stb implementation itself is
// compiled once, in stb_impl.cpp.
#include "datasets/image_codec.h"

#include <climits>

#include "datasets/stb_include.h"

namespace gs {

void DecodedPixelsFree::operator()(void* p) const { stbi_image_free(p); }

bool decode_image(const void* bytes, size_t size, DecodedImage& out, std::string& reason) {
  out = DecodedImage{};
  if (size == 0 || size > static_cast<size_t>(INT_MAX)) {
    reason = size == 0 ? "no data" : "file larger than 2 GiB";
    return false;
  }
  const auto* buf = static_cast<const stbi_uc*>(bytes);
  const int len = static_cast<int>(size);
  int w = 0, h = 0, c = 0;
  void* px = nullptr;
  int bits = 8;
  // Ask for the file's own channel count (desired_channels = 0) and keep 16-bit samples.
  if (stbi_is_16_bit_from_memory(buf, len)) {
    px = stbi_load_16_from_memory(buf, len, &w, &h, &c, 0);
    bits = 16;
  } else {
    px = stbi_load_from_memory(buf, len, &w, &h, &c, 0);
  }
  if (!px) {
    const char* why = stbi_failure_reason();
    reason = why ? why : "unknown decoder error";
    return false;
  }
  out.pixels.reset(px);
  if (w <= 0 || h <= 0 || c < 1 || c > 4) {
    out = DecodedImage{};
    reason = "decoder returned " + std::to_string(w) + "x" + std::to_string(h) + "x" +
             std::to_string(c);
    return false;
  }
  out.width = w;
  out.height = h;
  out.channels = c;
  out.bits = bits;
  return true;
}

namespace {

void append_bytes(void* context, void* data, int size) {
  auto* v = static_cast<std::vector<uint8_t>*>(context);
  const auto* p = static_cast<const uint8_t*>(data);
  v->insert(v->end(), p, p + size);
}

bool valid_input(const uint8_t* pixels, int width, int height, int channels) {
  return pixels && width > 0 && height > 0 && channels >= 1 && channels <= 4 &&
         static_cast<long long>(width) * channels <= INT_MAX;
}

}  // namespace

std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels) {
  std::vector<uint8_t> out;
  if (!valid_input(pixels, width, height, channels)) return out;
  if (!stbi_write_png_to_func(append_bytes, &out, width, height, channels, pixels,
                              width * channels))
    out.clear();
  return out;
}

std::vector<uint8_t> encode_jpeg(const uint8_t* pixels, int width, int height, int channels,
                                 int quality) {
  std::vector<uint8_t> out;
  if (!valid_input(pixels, width, height, channels) || quality < 1 || quality > 100) return out;
  if (!stbi_write_jpg_to_func(append_bytes, &out, width, height, channels, pixels, quality))
    out.clear();
  return out;
}

}  // namespace gs
