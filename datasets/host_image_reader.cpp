// Image decoding for the loaders. Files are read as bytes and decoded in memory (stb, through
// datasets/image_codec.h) so that a missing file and a corrupt file give different, precise
// errors.
#include "datasets/host_image_reader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "core/errors.h"
#include "datasets/image_codec.h"

namespace gs {
namespace fs = std::filesystem;

namespace {

std::vector<char> read_bytes(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw IoError(path + ": image not found",
                  "check that the image files are next to the dataset description");
  if (fs::is_directory(path, ec))
    throw IoError(path + ": is a directory, not an image", "point the dataset at image files");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw IoError(path + ": cannot open the image for reading", "check file permissions");
  std::vector<char> bytes(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    throw IoError(path + ": cannot read the image file", "check the file and the disk");
  if (bytes.empty()) throw IoError(path + ": the image file is empty", "re-export the image");
  return bytes;
}

// Rounds a value in [0, 255] (callers only blend values in that range); std::round is a
// library call per channel and dominated decoding time.
inline uint8_t to_u8(float v) {
  return static_cast<uint8_t>(std::min(255.f, std::max(0.f, v)) + 0.5f);
}

// Converts grey / grey+alpha / RGB / RGBA pixels (C channels of type T, full scale `max`, as
// stb decodes them) to RGB, compositing alpha on `bg` (0..255). Works on the decoded pixels
// directly and with the channel count fixed at compile time: a float copy of the image, or a
// per-pixel switch, made this cost as much as the PNG decoding itself.
template <class T, int C>
void to_rgb(const T* src, float max, const float bg[3], HostImage& img) {
  const float to255 = 255.f / max, inv_max = 1.f / max;
  const size_t n = static_cast<size_t>(img.width) * img.height;
  uint8_t* dst = img.rgb.data();
  for (size_t i = 0; i < n; ++i, src += C, dst += 3) {
    const float r = src[0] * to255;
    const float g = (C <= 2 ? src[0] : src[1]) * to255;
    const float b = (C <= 2 ? src[0] : src[2]) * to255;
    const float a = C == 2 ? src[1] * inv_max : (C == 4 ? src[3] * inv_max : 1.f);
    dst[0] = to_u8(r * a + bg[0] * (1.f - a));
    dst[1] = to_u8(g * a + bg[1] * (1.f - a));
    dst[2] = to_u8(b * a + bg[2] * (1.f - a));
  }
}

template <class T>
void to_rgb(const T* src, int channels, float max, const float bg[3], HostImage& img) {
  switch (channels) {
    case 1: to_rgb<T, 1>(src, max, bg, img); break;
    case 2: to_rgb<T, 2>(src, max, bg, img); break;
    case 3: to_rgb<T, 3>(src, max, bg, img); break;
    default: to_rgb<T, 4>(src, max, bg, img); break;
  }
}

}  // namespace

HostImage decode_host_image(const std::string& path, const std::array<float, 3>& background) {
  std::vector<char> bytes = read_bytes(path);
  DecodedImage m;
  std::string reason;
  if (!decode_image(bytes.data(), bytes.size(), m, reason))
    throw IoError(path + ": cannot decode the image (corrupt, truncated, or not a PNG/JPEG: " +
                      reason + ")",
                  "re-export the image as PNG or JPEG");

  HostImage img;
  img.width = m.width;
  img.height = m.height;
  img.rgb.resize(static_cast<size_t>(img.width) * img.height * 3);
  const float bg[3] = {background[0] * 255.f, background[1] * 255.f, background[2] * 255.f};
  if (m.bits == 16)
    to_rgb(m.data16(), m.channels, 65535.f, bg, img);
  else
    to_rgb(m.data8(), m.channels, 255.f, bg, img);
  return img;
}

void resize_host_image(HostImage& image, int width, int height) {
  if (image.width == width && image.height == height) return;
  const cv::Mat src(image.height, image.width, CV_8UC3, image.rgb.data());
  cv::Mat dst;
  // INTER_AREA averages when shrinking; when enlarging OpenCV makes it bilinear-like.
  cv::resize(src, dst, cv::Size(width, height), 0, 0, cv::INTER_AREA);
  HostImage out;
  out.width = width;
  out.height = height;
  out.rgb.assign(dst.data, dst.data + static_cast<size_t>(width) * height * 3);
  image = std::move(out);
}

}  // namespace gs
