// Image reading and PNG writing through OpenCV's imgcodecs. Files are read and written as bytes
// here (imdecode/imencode) so that every failure becomes a gs::IoError naming the file, instead
// of OpenCV's silent empty Mat and its own console warnings.
#include "datasets/image_io.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/errors.h"

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

  cv::Mat m;
  try {
    m = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1,
                             const_cast<char*>(bytes.data())),
                     cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw IoError(path + ": cannot decode the image: " + e.what(),
                  "use an 8- or 16-bit PNG or a JPEG");
  }
  if (m.empty())
    throw IoError(path + ": cannot decode the image (not a PNG/JPEG, or corrupt/truncated)",
                  "use an 8- or 16-bit PNG or a JPEG");

  double scale = 1.0;
  switch (m.depth()) {
    case CV_8U: scale = 1.0 / 255.0; break;
    case CV_16U: scale = 1.0 / 65535.0; break;
    case CV_32F: scale = 1.0; break;
    default:
      throw IoError(path + ": unsupported pixel depth (OpenCV depth " +
                        std::to_string(m.depth()) + ")",
                    "use an 8- or 16-bit PNG or a JPEG");
  }
  const int in_channels = m.channels();
  if (in_channels != 1 && in_channels != 3 && in_channels != 4)
    throw IoError(path + ": unsupported channel count " + std::to_string(in_channels),
                  "use a grey, RGB or RGBA image");
  cv::Mat f;
  m.convertTo(f, CV_32F, scale);

  Image img;
  img.width = f.cols;
  img.height = f.rows;
  img.channels = in_channels == 4 ? 4 : 3;
  img.pixels.resize(static_cast<size_t>(img.width) * img.height * img.channels);
  // OpenCV stores BGR(A); grey is replicated into RGB.
  for (int y = 0; y < f.rows; ++y) {
    const float* src = f.ptr<float>(y);
    float* dst = &img.pixels[static_cast<size_t>(y) * img.width * img.channels];
    for (int x = 0; x < f.cols; ++x) {
      const float* s = src + static_cast<size_t>(x) * in_channels;
      float* d = dst + static_cast<size_t>(x) * img.channels;
      if (in_channels == 1) {
        d[0] = d[1] = d[2] = s[0];
      } else {
        d[0] = s[2];
        d[1] = s[1];
        d[2] = s[0];
        if (in_channels == 4) d[3] = s[3];
      }
    }
  }
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
  cv::Mat m(height, width, CV_8UC(channels));
  auto to_byte = [](float v) {
    if (!(v > 0.f)) return uint8_t{0};  // also NaN
    if (v >= 1.f) return uint8_t{255};
    return static_cast<uint8_t>(std::lround(v * 255.f));
  };
  for (int y = 0; y < height; ++y) {
    uint8_t* dst = m.ptr<uint8_t>(y);
    const float* src = pixels + static_cast<size_t>(y) * width * channels;
    for (int x = 0; x < width; ++x) {
      const float* s = src + static_cast<size_t>(x) * channels;
      uint8_t* d = dst + static_cast<size_t>(x) * channels;
      if (channels == 1) {
        d[0] = to_byte(s[0]);
      } else {
        d[0] = to_byte(s[2]);  // OpenCV wants BGR(A)
        d[1] = to_byte(s[1]);
        d[2] = to_byte(s[0]);
        if (channels == 4) d[3] = to_byte(s[3]);
      }
    }
  }
  std::vector<uchar> encoded;
  try {
    if (!cv::imencode(".png", m, encoded)) throw IoError(path + ": PNG encoding failed");
  } catch (const cv::Exception& e) {
    throw IoError(path + ": PNG encoding failed: " + e.what());
  }

  const std::string tmp = path + ".tmp";
  std::error_code ec;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw IoError(path + ": cannot open " + tmp + " for writing",
                    "check that the output directory exists and is writable");
    out.write(reinterpret_cast<const char*>(encoded.data()),
              static_cast<std::streamsize>(encoded.size()));
    out.flush();
    if (!out) {
      out.close();
      fs::remove(tmp, ec);
      throw IoError(path + ": writing " + tmp + " failed (disk full?)",
                    "free disk space or choose another output directory");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw IoError(path + ": cannot rename " + tmp + " into place: " + ec.message(),
                  "check that the output directory is writable");
  }
}

}  // namespace gs
