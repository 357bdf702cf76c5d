// Image IO: PNG round trips (RGB, RGBA, grey), clamping, JPEG reading, clear errors.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/errors.h"
#include "datasets/image_io.h"

using namespace gs;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("gstrain_test_img_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::vector<float> gradient(int w, int h, int c) {
  std::vector<float> px(static_cast<size_t>(w) * h * c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k)
        px[(static_cast<size_t>(y) * w + x) * c + k] =
            std::fmod(0.013f * x + 0.071f * y + 0.29f * k, 1.f);
  return px;
}

void expect_error_naming(const std::string& path, const std::string& needle) {
  try {
    read_image(path);
    FAIL("no error for " << path);
  } catch (const IoError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find(needle) != std::string::npos);
  }
}
}  // namespace

TEST_CASE("PNG round trip keeps RGB and RGBA to 8-bit precision", "[io][image]") {
  TempDir dir;
  for (int c : {3, 4}) {
    const int w = 37, h = 23;
    const std::vector<float> px = gradient(w, h, c);
    const std::string path = dir.file("img" + std::to_string(c) + ".png");
    write_png(path, px.data(), w, h, c);
    CHECK_FALSE(fs::exists(path + ".tmp"));
    const Image img = read_image(path);
    REQUIRE(img.width == w);
    REQUIRE(img.height == h);
    REQUIRE(img.channels == c);
    double worst = 0;
    for (size_t i = 0; i < px.size(); ++i) worst = std::max(worst, double(std::abs(img.pixels[i] - px[i])));
    CHECK(worst <= 0.5 / 255 + 1e-6);
  }
}

TEST_CASE("PNG writing clamps, maps NaN to 0, and reads grey back as RGB", "[io][image]") {
  TempDir dir;
  const std::vector<float> px = {-1.f, 2.f, std::nanf(""), 0.5f, 1.f, 0.f};
  const std::string path = dir.file("clamp.png");
  write_png(path, px.data(), 2, 1, 3);
  const Image img = read_image(path);
  REQUIRE(img.channels == 3);
  CHECK(img.pixels[0] == 0.f);
  CHECK(img.pixels[1] == 1.f);
  CHECK(img.pixels[2] == 0.f);
  CHECK(img.pixels[3] == Approx(128.f / 255.f));  // 127.5 rounds away from zero

  const std::vector<float> grey = {0.f, 1.f, 0.25f};
  write_png(dir.file("grey.png"), grey.data(), 3, 1, 1);
  const Image g = read_image(dir.file("grey.png"));
  REQUIRE(g.channels == 3);
  CHECK(g.pixels[3] == 1.f);
  CHECK(g.pixels[4] == 1.f);
  CHECK(g.pixels[5] == 1.f);
}

TEST_CASE("JPEG and 16-bit PNG files read as float RGB", "[io][image]") {
  TempDir dir;
  cv::Mat m(8, 8, CV_8UC3, cv::Scalar(0, 128, 255));  // BGR: R = 255, G = 128, B = 0
  REQUIRE(cv::imwrite(dir.file("a.jpg"), m));
  const Image j = read_image(dir.file("a.jpg"));
  REQUIRE(j.channels == 3);
  CHECK(j.pixels[0] == Approx(1.0).margin(0.03));
  CHECK(j.pixels[1] == Approx(0.5).margin(0.03));
  CHECK(j.pixels[2] == Approx(0.0).margin(0.03));

  cv::Mat m16(2, 2, CV_16UC3, cv::Scalar(65535, 0, 32768));
  REQUIRE(cv::imwrite(dir.file("b.png"), m16));
  const Image p = read_image(dir.file("b.png"));
  CHECK(p.pixels[0] == Approx(32768.0 / 65535.0));
  CHECK(p.pixels[2] == 1.f);
}

TEST_CASE("image IO errors name the file", "[io][image]") {
  TempDir dir;
  expect_error_naming(dir.file("missing.png"), "not found");
  {
    std::ofstream(dir.file("text.png")) << "this is not an image";
  }
  expect_error_naming(dir.file("text.png"), "decode");
  std::ofstream(dir.file("empty.png")).close();
  expect_error_naming(dir.file("empty.png"), "empty");

  const std::vector<float> px(12, 0.5f);
  CHECK_THROWS_AS(write_png(dir.file("no/such/dir/x.png"), px.data(), 2, 2, 3), IoError);
  CHECK_THROWS_AS(write_png(dir.file("zero.png"), px.data(), 0, 2, 3), IoError);
  CHECK_THROWS_AS(write_png(dir.file("two.png"), px.data(), 2, 2, 2), IoError);
}
