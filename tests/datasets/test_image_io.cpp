// Image IO: PNG round trips (RGB, RGBA, grey), clamping, JPEG and 16-bit PNG reading, channel
// order and alpha compositing in the loaders' decoder, clear errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "datasets/host_image_reader.h"
#include "datasets/image_codec.h"
#include "datasets/image_io.h"
#include "tests/test_support.h"

using namespace gs;
using gs::test::TempDir;
namespace fs = std::filesystem;

namespace {
std::vector<float> gradient(int w, int h, int c) {
  std::vector<float> px(static_cast<size_t>(w) * h * c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k)
        px[(static_cast<size_t>(y) * w + x) * c + k] =
            std::fmod(0.013f * x + 0.071f * y + 0.29f * k, 1.f);
  return px;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

// A PNG encoder independent of the one under test (and the only way to make 16-bit files, which
// stb_image_write cannot): samples (8- or 16-bit, 1..4 channels, rows packed) go into one zlib
// stream of uncompressed ("stored") deflate blocks.
std::vector<uint8_t> raw_png(int w, int h, int channels, int bits,
                             const std::vector<uint16_t>& samples) {
  auto crc32 = [](const uint8_t* p, size_t n, uint32_t c = 0xffffffffu) {
    for (size_t i = 0; i < n; ++i) {
      c ^= p[i];
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c;
  };
  auto be32 = [](std::vector<uint8_t>& v, uint32_t x) {
    for (int s = 24; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
  };
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  auto chunk = [&](const char* type, const std::vector<uint8_t>& data) {
    be32(png, uint32_t(data.size()));
    std::vector<uint8_t> body(type, type + 4);
    body.insert(body.end(), data.begin(), data.end());
    png.insert(png.end(), body.begin(), body.end());
    be32(png, crc32(body.data(), body.size()) ^ 0xffffffffu);
  };
  std::vector<uint8_t> ihdr;
  be32(ihdr, uint32_t(w));
  be32(ihdr, uint32_t(h));
  const uint8_t colour_type[] = {0, 0, 4, 2, 6};  // grey, grey+alpha, RGB, RGBA
  ihdr.insert(ihdr.end(), {uint8_t(bits), colour_type[channels], 0, 0, 0});
  chunk("IHDR", ihdr);
  std::vector<uint8_t> raw;  // filter byte 0 per row, then big-endian samples
  for (int y = 0; y < h; ++y) {
    raw.push_back(0);
    for (int i = 0; i < w * channels; ++i) {
      const uint16_t s = samples[size_t(y) * w * channels + i];
      if (bits == 16) raw.push_back(uint8_t(s >> 8));
      raw.push_back(uint8_t(s));
    }
  }
  std::vector<uint8_t> z = {0x78, 0x01};
  for (size_t at = 0; at < raw.size() || at == 0; at += 65535) {
    const size_t n = std::min<size_t>(65535, raw.size() - at);
    z.insert(z.end(), {uint8_t(at + n == raw.size()), uint8_t(n), uint8_t(n >> 8),
                       uint8_t(~n), uint8_t(~n >> 8)});
    z.insert(z.end(), raw.begin() + long(at), raw.begin() + long(at + n));
  }
  uint32_t a = 1, b = 0;  // Adler-32
  for (uint8_t c : raw) a = (a + c) % 65521, b = (b + a) % 65521;
  be32(z, (b << 16) | a);
  chunk("IDAT", z);
  chunk("IEND", {});
  return png;
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
  TempDir dir("img");
  for (int c : {3, 4}) {
    const int w = 37, h = 23;
    const std::vector<float> px = gradient(w, h, c);
    const std::string path = (dir / "img" + std::to_string(c) + ".png");
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
  TempDir dir("img");
  const std::vector<float> px = {-1.f, 2.f, std::nanf(""), 0.5f, 1.f, 0.f};
  const std::string path = dir / "clamp.png";
  write_png(path, px.data(), 2, 1, 3);
  const Image img = read_image(path);
  REQUIRE(img.channels == 3);
  CHECK(img.pixels[0] == 0.f);
  CHECK(img.pixels[1] == 1.f);
  CHECK(img.pixels[2] == 0.f);
  CHECK(img.pixels[3] == Approx(128.f / 255.f));  // 127.5 rounds away from zero

  const std::vector<float> grey = {0.f, 1.f, 0.25f};
  write_png((dir / "grey.png"), grey.data(), 3, 1, 1);
  const Image g = read_image(dir / "grey.png");
  REQUIRE(g.channels == 3);
  CHECK(g.pixels[3] == 1.f);
  CHECK(g.pixels[4] == 1.f);
  CHECK(g.pixels[5] == 1.f);
}

TEST_CASE("JPEG and 16-bit PNG files read as float RGB", "[io][image]") {
  TempDir dir("img");
  std::vector<uint8_t> rgb(8 * 8 * 3);
  for (size_t i = 0; i < rgb.size(); i += 3) rgb[i] = 255, rgb[i + 1] = 128, rgb[i + 2] = 0;
  const std::vector<uint8_t> jpg = encode_jpeg(rgb.data(), 8, 8, 3, 95);
  REQUIRE(!jpg.empty());
  write_bytes((dir / "a.jpg"), jpg);
  const Image j = read_image(dir / "a.jpg");
  REQUIRE(j.channels == 3);
  CHECK(j.pixels[0] == Approx(1.0).margin(0.03));
  CHECK(j.pixels[1] == Approx(0.5).margin(0.03));
  CHECK(j.pixels[2] == Approx(0.0).margin(0.03));

  std::vector<uint16_t> px16;
  for (int i = 0; i < 4; ++i) px16.insert(px16.end(), {32768, 0, 65535});
  write_bytes((dir / "b.png"), raw_png(2, 2, 3, 16, px16));
  const Image p = read_image(dir / "b.png");
  REQUIRE(p.channels == 3);
  CHECK(p.pixels[0] == Approx(32768.0 / 65535.0));
  CHECK(p.pixels[1] == 0.f);
  CHECK(p.pixels[2] == 1.f);

  // 16-bit grey + alpha reads as RGBA, not as two channels.
  write_bytes((dir / "ga.png"), raw_png(1, 1, 2, 16, {13107, 65535}));
  const Image ga = read_image(dir / "ga.png");
  REQUIRE(ga.channels == 4);
  CHECK(ga.pixels[0] == Approx(0.2));
  CHECK(ga.pixels[2] == Approx(0.2));
  CHECK(ga.pixels[3] == 1.f);
}

TEST_CASE("the loaders' decoder keeps RGB order and composites alpha at 8 and 16 bits",
          "[io][image]") {
  TempDir dir("img");
  const std::array<float, 3> white = {1, 1, 1};
  // RGB 8-bit (stb's encoder) and 16-bit (independent encoder): red must stay in channel 0.
  const std::vector<uint8_t> rgb8 = {200, 100, 50, 0, 0, 255};
  write_bytes((dir / "rgb8.png"), encode_png(rgb8.data(), 2, 1, 3));
  write_bytes((dir / "rgb16.png"), raw_png(2, 1, 3, 16, {51400, 25700, 12850, 0, 0, 65535}));
  for (const char* name : {"rgb8.png", "rgb16.png"}) {
    INFO(name);
    const HostImage h = decode_host_image((dir / name), white);
    REQUIRE(h.width == 2);
    REQUIRE(h.height == 1);
    CHECK(h.rgb == rgb8);
  }
  // RGBA: half-transparent red over white, opaque green, fully transparent (background).
  const std::vector<uint8_t> rgba = {255, 0, 0, 128, 0, 255, 0, 255, 9, 9, 9, 0};
  write_bytes((dir / "rgba.png"), encode_png(rgba.data(), 3, 1, 4));
  const HostImage a = decode_host_image((dir / "rgba.png"), {0.f, 0.f, 1.f});
  const std::vector<uint8_t> expect = {128, 0, 127, 0, 255, 0, 0, 0, 255};
  CHECK(a.rgb == expect);
  // Grey and grey + alpha.
  write_bytes((dir / "g.png"), raw_png(2, 1, 2, 8, {77, 255, 77, 0}));
  const HostImage g = decode_host_image((dir / "g.png"), white);
  const std::vector<uint8_t> gexpect = {77, 77, 77, 255, 255, 255};
  CHECK(g.rgb == gexpect);
  // A JPEG keeps its colours' order too.
  std::vector<uint8_t> blue(16 * 16 * 3);
  for (size_t i = 0; i < blue.size(); i += 3) blue[i] = 10, blue[i + 1] = 60, blue[i + 2] = 230;
  write_bytes((dir / "blue.jpg"), encode_jpeg(blue.data(), 16, 16, 3, 95));
  const HostImage j = decode_host_image((dir / "blue.jpg"), white);
  CHECK(std::abs(int(j.rgb[0]) - 10) <= 4);
  CHECK(std::abs(int(j.rgb[1]) - 60) <= 4);
  CHECK(std::abs(int(j.rgb[2]) - 230) <= 4);
}

TEST_CASE("image IO errors name the file", "[io][image]") {
  TempDir dir("img");
  expect_error_naming((dir / "missing.png"), "not found");
  {
    std::ofstream(dir / "text.png") << "this is not an image";
  }
  expect_error_naming((dir / "text.png"), "decode");
  std::ofstream(dir / "empty.png").close();
  expect_error_naming((dir / "empty.png"), "empty");
  // A PNG cut short in its pixel data is corrupt, not missing.
  {
    const std::vector<uint8_t> rgb(64 * 64 * 3, 7);
    std::vector<uint8_t> png = encode_png(rgb.data(), 64, 64, 3);
    png.resize(60);
    write_bytes((dir / "truncated.png"), png);
  }
  expect_error_naming((dir / "truncated.png"), "cannot decode the image");
  CHECK_THROWS_AS(decode_host_image((dir / "truncated.png"), {0, 0, 0}), IoError);
  CHECK_THROWS_WITH(decode_host_image((dir / "missing.png"), {0, 0, 0}),
                    Catch::Contains("missing.png: image not found"));

  const std::vector<float> px(12, 0.5f);
  CHECK_THROWS_AS(write_png((dir / "no/such/dir/x.png"), px.data(), 2, 2, 3), IoError);
  CHECK_THROWS_AS(write_png((dir / "zero.png"), px.data(), 0, 2, 3), IoError);
  CHECK_THROWS_AS(write_png((dir / "two.png"), px.data(), 2, 2, 2), IoError);
}
