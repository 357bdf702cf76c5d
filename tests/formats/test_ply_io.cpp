// PLY I/O: bit-exact round trips, the lenient reading real files need (any order, any type,
// extra properties/elements, ASCII), and a clear IoError naming the file for every broken one.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/logging.h"
#include "scene/gaussian_cloud.h"
#include "formats/ply_io.h"
#include "tests/test_support.h"

using namespace gs;
using gs::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test case, removed afterwards.
GaussianCloud random_cloud(size_t n, int degree, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  GaussianCloud c;
  c.resize(n, degree);
  for (auto* v : {&c.means, &c.log_scales, &c.quats, &c.opacity_logits, &c.sh})
    for (float& x : *v) x = g(rng);
  return c;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class T>
void put(std::string& buf, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  buf.append(b, sizeof(T));
}

// Writes a one-element (vertex) PLY by hand: `props` are "type name" pairs, rows are values.
std::string hand_ply(const std::string& format, const std::vector<std::string>& props,
                     const std::vector<std::vector<double>>& rows,
                     const std::string& extra_header_before = "") {
  std::ostringstream h;
  h << "ply\nformat " << format << " 1.0\ncomment hand-written test file\n"
    << extra_header_before << "element vertex " << rows.size() << "\n";
  for (const auto& p : props) h << "property " << p << "\n";
  h << "end_header\n";
  std::string out = h.str();
  return out;
}

std::string type_of(const std::string& prop) { return prop.substr(0, prop.find(' ')); }

void append_binary_row(std::string& buf, const std::vector<std::string>& props,
                       const std::vector<double>& row) {
  for (size_t p = 0; p < props.size(); ++p) {
    const std::string t = type_of(props[p]);
    if (t == "float") put<float>(buf, static_cast<float>(row[p]));
    else if (t == "double") put<double>(buf, row[p]);
    else if (t == "uchar") put<uint8_t>(buf, static_cast<uint8_t>(row[p]));
    else if (t == "short") put<int16_t>(buf, static_cast<int16_t>(row[p]));
    else if (t == "int") put<int32_t>(buf, static_cast<int32_t>(row[p]));
    else FAIL("test helper: unknown type " << t);
  }
}

// A complete, valid INRIA-style property list in float (degree 0, no normals).
const std::vector<std::string> kMinimalProps = {
    "float x",       "float y",       "float z",       "float f_dc_0",  "float f_dc_1",
    "float f_dc_2",  "float opacity", "float scale_0", "float scale_1", "float scale_2",
    "float rot_0",   "float rot_1",   "float rot_2",   "float rot_3"};

std::vector<double> minimal_row(double base) {
  std::vector<double> r(14);
  for (int i = 0; i < 14; ++i) r[i] = base + i;
  return r;
}

std::string valid_binary_ply(int n) {
  std::vector<std::vector<double>> rows;
  for (int i = 0; i < n; ++i) rows.push_back(minimal_row(i * 100));
  std::string s = hand_ply("binary_little_endian", kMinimalProps, rows);
  for (const auto& r : rows) append_binary_row(s, kMinimalProps, r);
  return s;
}

// Expects read_ply to throw an IoError whose message names the file and contains `needle`.
void expect_io_error(const std::string& path, const std::string& needle) {
  try {
    read_ply(path);
    FAIL("no error for " << path << " (expected '" << needle << "')");
  } catch (const IoError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find(needle) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("PLY binary round trip is bit-exact for SH degrees 0..3", "[io][ply]") {
  TempDir dir("ply");
  for (int degree = 0; degree <= 3; ++degree) {
    DYNAMIC_SECTION("degree " << degree) {
      GaussianCloud c = random_cloud(257, degree, 17u + degree);
      c.means[5] = -0.0f;  // signs of zero and denormals survive too
      c.sh[1] = 1e-40f;
      const std::string path = (dir / "cloud_" + std::to_string(degree) + ".ply");
      write_ply(path, c);
      CHECK_FALSE(fs::exists(path + ".tmp"));
      const GaussianCloud r = read_ply(path);
      REQUIRE(r.sh_degree == degree);
      REQUIRE(r.size() == c.size());
      CHECK(same_bits(r.means, c.means));
      CHECK(same_bits(r.log_scales, c.log_scales));
      CHECK(same_bits(r.quats, c.quats));
      CHECK(same_bits(r.opacity_logits, c.opacity_logits));
      CHECK(same_bits(r.sh, c.sh));
    }
  }
}

TEST_CASE("PLY writer uses the INRIA layout with channel-major f_rest", "[io][ply]") {
  TempDir dir("ply");
  GaussianCloud c;
  c.resize(1, 1);  // K = 4
  for (int k = 0; k < 4; ++k)
    for (int ch = 0; ch < 3; ++ch) c.sh[k * 3 + ch] = static_cast<float>(10 * k + ch);
  const std::string path = dir / "layout.ply";
  write_ply(path, c);

  std::ifstream in(path, std::ios::binary);
  std::string line, header;
  std::vector<std::string> names;
  while (std::getline(in, line) && line != "end_header") {
    header += line + "\n";
    if (line.rfind("property float ", 0) == 0) names.push_back(line.substr(15));
  }
  CHECK(header.find("format binary_little_endian 1.0") != std::string::npos);
  const std::vector<std::string> expected = {
      "x",        "y",        "z",        "nx",       "ny",       "nz",      "f_dc_0",
      "f_dc_1",   "f_dc_2",   "f_rest_0", "f_rest_1", "f_rest_2", "f_rest_3", "f_rest_4",
      "f_rest_5", "f_rest_6", "f_rest_7", "f_rest_8", "opacity",  "scale_0", "scale_1",
      "scale_2",  "rot_0",    "rot_1",    "rot_2",    "rot_3"};
  REQUIRE(names == expected);
  std::vector<float> row(names.size());
  in.read(reinterpret_cast<char*>(row.data()), static_cast<std::streamsize>(row.size() * 4));
  REQUIRE(in.gcount() == static_cast<std::streamsize>(row.size() * 4));
  CHECK(row[6] == 0.f);
  CHECK(row[7] == 1.f);
  CHECK(row[8] == 2.f);
  // f_rest_j = channel j / 3, coefficient j % 3 + 1.
  for (int j = 0; j < 9; ++j) CHECK(row[9 + j] == static_cast<float>(10 * (j % 3 + 1) + j / 3));
}

TEST_CASE("PLY reader finds properties by name, in any order, skipping extras", "[io][ply]") {
  TempDir dir("ply");
  // Degree 1, shuffled, with unknown properties of several types and no normals.
  std::vector<std::string> props = {"float rot_2", "uchar red",     "float f_rest_4",
                                    "float scale_1", "double extra"};
  std::vector<std::string> names = {"x",       "y",       "z",       "f_dc_0",  "f_dc_1",
                                    "f_dc_2",  "opacity", "scale_0", "scale_2", "rot_0",
                                    "rot_1",   "rot_3"};
  for (const auto& n : names) props.push_back("float " + n);
  for (int j = 0; j < 9; ++j)
    if (j != 4) props.push_back("float f_rest_" + std::to_string(j));
  std::mt19937 rng(3);
  std::shuffle(props.begin(), props.end(), rng);

  // Value of a property for vertex i: a code that says which property it was.
  auto value_of = [](const std::string& prop, int i) -> double {
    const std::string name = prop.substr(prop.find(' ') + 1);
    if (name == "red") return 200;
    if (name == "extra") return -1e300;  // out of float range, but never read
    double code = 0;
    for (char ch : name) code = code * 1.7 + ch;
    return std::fmod(code, 1000.0) + i;
  };
  std::vector<std::vector<double>> rows(3);
  for (int i = 0; i < 3; ++i)
    for (const auto& p : props) rows[i].push_back(value_of(p, i));

  // An element before the vertex (fixed size) and one with a list property, plus one after.
  const std::string before =
      "element camera 2\nproperty float fx\nproperty int id\n"
      "element tag 2\nproperty list uchar int values\nproperty short code\n";
  std::string s = hand_ply("binary_little_endian", props, rows, before);
  // Move the after-element declaration: insert it just before end_header.
  s.replace(s.find("end_header\n"), 11, "element face 1\nproperty list uchar int vertex_indices\nend_header\n");
  put<float>(s, 500.f);
  put<int32_t>(s, 1);
  put<float>(s, 600.f);
  put<int32_t>(s, 2);
  put<uint8_t>(s, 2);
  put<int32_t>(s, 7);
  put<int32_t>(s, 8);
  put<int16_t>(s, 5);
  put<uint8_t>(s, 0);
  put<int16_t>(s, 6);
  for (const auto& r : rows) append_binary_row(s, props, r);
  put<uint8_t>(s, 3);
  for (int k = 0; k < 3; ++k) put<int32_t>(s, k);

  const std::string path = dir / "shuffled.ply";
  write_file(path, s);
  const GaussianCloud c = read_ply(path);
  REQUIRE(c.size() == 3);
  REQUIRE(c.sh_degree == 1);
  auto f = [&](const char* name, int i) {
    return static_cast<float>(value_of(std::string("float ") + name, i));
  };
  for (int i = 0; i < 3; ++i) {
    CHECK(c.means[i * 3 + 0] == f("x", i));
    CHECK(c.means[i * 3 + 2] == f("z", i));
    CHECK(c.log_scales[i * 3 + 1] == f("scale_1", i));
    CHECK(c.quats[i * 4 + 0] == f("rot_0", i));
    CHECK(c.quats[i * 4 + 2] == f("rot_2", i));
    CHECK(c.opacity_logits[i] == f("opacity", i));
    CHECK(c.sh[i * 12 + 1] == f("f_dc_1", i));
    // f_rest_4: channel 1, coefficient 2 -> sh[k=2][c=1]
    CHECK(c.sh[i * 12 + 2 * 3 + 1] == f("f_rest_4", i));
    // f_rest_8: channel 2, coefficient 3
    CHECK(c.sh[i * 12 + 3 * 3 + 2] == f("f_rest_8", i));
  }
}

TEST_CASE("PLY reader accepts ASCII and double/integer-typed properties", "[io][ply]") {
  TempDir dir("ply");
  SECTION("ASCII") {
    std::string s = hand_ply("ascii", kMinimalProps, {minimal_row(0), minimal_row(0)},
                             "element note 1\nproperty list uchar float v\n");
    s += "3 1.5 2.5 3.5\n";
    s += "0 1 2 3 4 5 6 7 8 9 10 11 12 13\n";
    // Any whitespace, exponents, a leading '+', Windows line endings.
    s += "+0.5e1\t1 2 3 4 5 6 7 8 9 10 11 12 -1.25E-2\r\n";
    const std::string path = dir / "ascii.ply";
    write_file(path, s);
    const GaussianCloud c = read_ply(path);
    REQUIRE(c.size() == 2);
    CHECK(c.sh_degree == 0);
    CHECK(c.means[0] == 0.f);
    CHECK(c.means[3] == 5.f);
    CHECK(c.sh[0] == 3.f);
    CHECK(c.opacity_logits[1] == 6.f);
    CHECK(c.log_scales[5] == 9.f);
    CHECK(c.quats[7] == -0.0125f);
  }
  SECTION("double and integer types") {
    std::vector<std::string> props = kMinimalProps;
    for (auto& p : props) p = "double" + p.substr(5);
    props[6] = "int opacity";
    props[10] = "short rot_0";
    std::vector<double> row = {0.1, -0.2, 1e-3, 0.3, 0.4, 0.5, -7, 0.6, 0.7, 0.8, 2, 0.1, 0.2, 0.3};
    std::string s = hand_ply("binary_little_endian", props, {row});
    append_binary_row(s, props, row);
    const std::string path = dir / "double.ply";
    write_file(path, s);
    const GaussianCloud c = read_ply(path);
    REQUIRE(c.size() == 1);
    CHECK(c.means[0] == 0.1f);
    CHECK(c.means[1] == -0.2f);
    CHECK(c.means[2] == 1e-3f);
    CHECK(c.opacity_logits[0] == -7.f);
    CHECK(c.quats[0] == 2.f);
    CHECK(c.sh[2] == 0.5f);
  }
  SECTION("an empty vertex element is a valid, empty cloud") {
    const std::string path = dir / "empty.ply";
    write_file(path, hand_ply("binary_little_endian", kMinimalProps, {}));
    CHECK(read_ply(path).size() == 0);
  }
}

TEST_CASE("PLY reader warns about non-finite Gaussians but keeps them", "[io][ply]") {
  TempDir dir("ply");
  GaussianCloud c = random_cloud(10, 0, 5);
  c.means[4] = std::nanf("");
  c.opacity_logits[7] = std::nanf("");
  c.opacity_logits[8] = INFINITY;  // saturated opacity: clamped, not counted
  c.opacity_logits[9] = -INFINITY;
  const std::string path = dir / "nan.ply";
  write_ply(path, c);
  ScopedLogCapture cap;
  const GaussianCloud r = read_ply(path);
  CHECK(r.size() == 10);
  CHECK(r.count_nonfinite() == 2);
  CHECK(r.opacity_logits[8] == kSaturatedOpacityLogit);
  CHECK(r.opacity_logits[9] == -kSaturatedOpacityLogit);
  CHECK(cap.warnings() == 1);
  CHECK(cap.text().find(path) != std::string::npos);
}

TEST_CASE("PLY reader refuses malformed files with an IoError naming the file", "[io][ply]") {
  TempDir dir("ply");
  const std::string good = valid_binary_ply(3);
  auto file_with = [&](const std::string& name, const std::string& bytes) {
    const std::string path = dir / name;
    write_file(path, bytes);
    return path;
  };
  auto replaced = [&](std::string from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  SECTION("sanity: the unmodified file reads") {
    CHECK(read_ply(file_with("good.ply", good)).size() == 3);
  }
  SECTION("missing file") { expect_io_error((dir / "nope.ply"), "not found"); }
  SECTION("a directory") {
    fs::create_directories(dir / "adir.ply");
    expect_io_error((dir / "adir.ply"), "directory");
  }
  SECTION("bad magic") {
    expect_io_error(file_with("magic.ply", "plx\n" + good.substr(4)), "not a PLY");
  }
  SECTION("empty file") { expect_io_error(file_with("empty.ply", ""), "not a PLY"); }
  SECTION("no end_header") {
    expect_io_error(file_with("noend.ply", good.substr(0, good.find("end_header"))),
                    "end_header");
  }
  SECTION("binary junk after the magic, no newline for a long time") {
    expect_io_error(file_with("junk.ply", "ply\n" + std::string(2 << 20, 'x')), "end_header");
  }
  SECTION("missing required property") {
    expect_io_error(file_with("norot.ply", replaced("property float rot_3\n", "")), "rot_3");
  }
  SECTION("point cloud without f_dc") {
    std::string s = replaced("property float f_dc_0\n", "property uchar red\n");
    expect_io_error(file_with("points.ply", s), "f_dc_0");
  }
  SECTION("truncated data") {
    expect_io_error(file_with("trunc.ply", good.substr(0, good.size() - 5)), "truncated");
  }
  SECTION("count larger than the data") {
    expect_io_error(file_with("count.ply", replaced("element vertex 3", "element vertex 4000000000000")),
                    "truncated");
  }
  SECTION("big-endian") {
    expect_io_error(
        file_with("be.ply", replaced("binary_little_endian", "binary_big_endian")),
        "big_endian");
  }
  SECTION("unknown format") {
    expect_io_error(file_with("fmt.ply", replaced("binary_little_endian", "binary_middle")),
                    "format");
  }
  SECTION("NaN, negative and fractional counts") {
    expect_io_error(file_with("nan.ply", replaced("element vertex 3", "element vertex nan")),
                    "count");
    expect_io_error(file_with("neg.ply", replaced("element vertex 3", "element vertex -3")),
                    "count");
    expect_io_error(file_with("frac.ply", replaced("element vertex 3", "element vertex 2.5")),
                    "count");
  }
  SECTION("unknown property type") {
    expect_io_error(file_with("type.ply", replaced("property float y", "property half y")),
                    "half");
  }
  SECTION("duplicate property") {
    expect_io_error(file_with("dup.ply", replaced("property float y", "property float x")),
                    "twice");
  }
  SECTION("a required property that is a list") {
    expect_io_error(
        file_with("list.ply", replaced("property float y", "property list uchar float y")),
        "list");
  }
  SECTION("an element before the vertex that cannot be skipped") {
    expect_io_error(file_with("unskippable.ply",
                              replaced("element vertex", "element odd 1\nproperty list float "
                                                         "int idx\nelement vertex")),
                    "count type");
  }
  SECTION("no vertex element") {
    expect_io_error(file_with("novertex.ply", replaced("element vertex", "element points")),
                    "vertex");
  }
  SECTION("f_rest count that is no SH degree") {
    std::string s = replaced("property float opacity\n",
                             "property float opacity\nproperty float f_rest_0\n"
                             "property float f_rest_1\n");
    expect_io_error(file_with("rest.ply", s), "f_rest");
  }
  SECTION("f_rest indices with a gap") {
    std::vector<std::string> props = kMinimalProps;
    for (int j = 0; j < 9; ++j) props.push_back("float f_rest_" + std::to_string(j == 8 ? 9 : j));
    std::vector<double> row(props.size(), 0.0);
    std::string s = hand_ply("binary_little_endian", props, {row});
    append_binary_row(s, props, row);
    expect_io_error(file_with("gap.ply", s), "f_rest");
  }
  SECTION("property before element") {
    expect_io_error(
        file_with("order.ply", "ply\nformat ascii 1.0\nproperty float x\nend_header\n"),
        "before any");
  }
  SECTION("no format line") {
    std::string s = good;
    s.erase(s.find("format"), std::string("format binary_little_endian 1.0\n").size());
    expect_io_error(file_with("noformat.ply", s), "format");
  }
  SECTION("ASCII: a token that is not a number") {
    std::string s = hand_ply("ascii", kMinimalProps, {minimal_row(0)});
    s += "0 1 2 3 4 5 six 7 8 9 10 11 12 13\n";
    expect_io_error(file_with("word.ply", s), "six");
  }
  SECTION("ASCII: truncated") {
    // Enough bytes to pass the size pre-check, but the second record is one value short.
    const std::string s = hand_ply("ascii", kMinimalProps, {minimal_row(0), minimal_row(0)}) +
                          "0 1 2 3 4 5 6 7 8 9 10 11 12 13\n0 1 2 3 4 5 6 7 8 9 10 11 12" +
                          std::string(40, ' ') + "\n";
    expect_io_error(file_with("asciitrunc.ply", s), "truncated");
  }
}

TEST_CASE("PLY writer is atomic and reports unwritable paths", "[io][ply]") {
  TempDir dir("ply");
  const GaussianCloud c = random_cloud(4, 2, 9);
  const std::string nested = dir / "a/b/c/point_cloud.ply";
  write_ply(nested, c);  // creates the parent directories
  CHECK(read_ply(nested).size() == 4);

  // Overwriting replaces the old file in one step.
  const GaussianCloud d = random_cloud(6, 0, 10);
  write_ply(nested, d);
  CHECK(read_ply(nested).size() == 6);

  // A path whose parent is a file cannot be written.
  write_file((dir / "plainfile"), "x");
  CHECK_THROWS_AS(write_ply((dir / "plainfile/out.ply"), c), IoError);

  // An inconsistent cloud is refused before anything is written.
  GaussianCloud bad = c;
  bad.sh.pop_back();
  CHECK_THROWS_AS(write_ply((dir / "bad.ply"), bad), Error);
  CHECK_FALSE(fs::exists(dir / "bad.ply"));
}

TEST_CASE("robust bounds ignore far-away floaters", "[io][ply]") {
  GaussianCloud c;
  c.resize(1000, 0);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (size_t i = 0; i < 1000; ++i)
    for (int a = 0; a < 3; ++a) c.means[i * 3 + a] = 10.f * a + u(rng);
  for (int i = 0; i < 20; ++i) c.means[i * 3] = 1e6f;  // 2% floaters
  const RobustBounds b = robust_bounds(c, 0.05f);
  CHECK(std::abs(b.center[0]) < 0.2f);
  CHECK(std::abs(b.center[1] - 10.f) < 0.2f);
  CHECK(b.hi[0] < 1.f);
  CHECK(b.radius < 2.f);
}

TEST_CASE("biker.ply from the shared data reads as a degree-0 splat", "[io][ply]") {
  const std::string path = std::string(GSTRAIN_SHARED_DATA) + "/splats/biker.ply";
  if (!fs::exists(path)) {
    GS_SKIP(path << " is absent (shared data is optional)");
    return;
  }
  const GaussianCloud c = read_ply(path);
  CHECK(c.size() == 152746);
  CHECK(c.sh_degree == 0);
  CHECK(c.count_nonfinite() == 0);
  CHECK_NOTHROW(c.check_valid());
}
