// Cameras JSON: good files (round trip through the writer), and a clear IoError naming the
// file, camera and field for each kind of bad one.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "datasets/cameras_json.h"
#include "tests/test_support.h"

using namespace gs;
using gs::test::TempDir;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
json good_camera(const std::string& name) {
  // A rotation of 90° about z, then a translation.
  return {{"name", name},     {"width", 64}, {"height", 48}, {"fx", 50.5}, {"fy", 51},
          {"cx", 32},         {"cy", 24.25},
          {"world_to_camera", {{0, -1, 0, 1}, {1, 0, 0, 2}, {0, 0, 1, 3}, {0, 0, 0, 1}}},
          {"note", "unknown keys are ignored"}};
}

std::string write_json(const TempDir& dir, const std::string& name, const json& doc) {
  const std::string path = dir / name;
  std::ofstream(path) << doc.dump();
  return path;
}

void expect_error(const std::string& path, const std::vector<std::string>& needles) {
  try {
    read_cameras_json(path);
    FAIL("no error for " << path);
  } catch (const IoError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(path) != std::string::npos);
    for (const auto& n : needles) CHECK(msg.find(n) != std::string::npos);
    CHECK_FALSE(e.hint().empty());
  }
}
}  // namespace

TEST_CASE("cameras JSON reads good files and round-trips through the writer", "[io][cameras]") {
  TempDir dir("cam");
  const std::string path =
      write_json(dir, "cams.json", {{"cameras", {good_camera("a"), good_camera("b")}}});
  const auto cams = read_cameras_json(path);
  REQUIRE(cams.size() == 2);
  CHECK(cams[0].name == "a");
  CHECK(cams[1].name == "b");
  CHECK(cams[0].width == 64);
  CHECK(cams[0].height == 48);
  CHECK(cams[0].fx == 50.5f);
  CHECK(cams[0].fy == 51.f);
  CHECK(cams[0].cy == 24.25f);
  CHECK(cams[0].world_to_camera[1] == -1.f);
  CHECK(cams[0].world_to_camera[7] == 2.f);
  CHECK(cams[0].world_to_camera[15] == 1.f);

  Camera odd = cams[0];
  odd.name = "odd";
  odd.fx = 0.1f;  // not exactly representable in JSON's decimal: must still round-trip
  odd.cx = 1.0f / 3.0f;
  const std::string out = dir / "written.json";
  write_cameras_json(out, {cams[0], odd});
  CHECK_FALSE(fs::exists(out + ".tmp"));
  const auto back = read_cameras_json(out);
  REQUIRE(back.size() == 2);
  CHECK(back[1].name == "odd");
  CHECK(back[1].fx == odd.fx);
  CHECK(back[1].cx == odd.cx);
  for (int i = 0; i < 16; ++i) CHECK(back[0].world_to_camera[i] == cams[0].world_to_camera[i]);
}

TEST_CASE("cameras JSON errors name the file, camera and field", "[io][cameras]") {
  TempDir dir("cam");
  auto with = [&](const std::string& file, const std::function<void(json&)>& edit) {
    json cam = good_camera("cam_x");
    edit(cam);
    return write_json(dir, file, {{"cameras", {good_camera("first"), cam}}});
  };
  SECTION("missing file") { expect_error((dir / "none.json"), {"not found"}); }
  SECTION("invalid JSON") {
    const std::string path = dir / "syntax.json";
    std::ofstream(path) << "{\"cameras\": [ {\"name\": \"a\", } ]";
    expect_error(path, {"invalid JSON"});
  }
  SECTION("no cameras array") {
    expect_error(write_json(dir, "top.json", json::array()), {"\"cameras\""});
    expect_error(write_json(dir, "notarray.json", {{"cameras", 3}}), {"must be an array"});
    expect_error(write_json(dir, "empty.json", {{"cameras", json::array()}}), {"empty"});
  }
  SECTION("a camera that is not an object") {
    expect_error(write_json(dir, "notobj.json", {{"cameras", {7}}}), {"camera 0"});
  }
  SECTION("missing field") {
    expect_error(with("nofx.json", [](json& c) { c.erase("fx"); }),
                 {"camera 1", "cam_x", "'fx'", "missing"});
    expect_error(with("nomat.json", [](json& c) { c.erase("world_to_camera"); }),
                 {"camera 1", "'world_to_camera'", "missing"});
    expect_error(with("noname.json", [](json& c) { c.erase("name"); }), {"camera 1", "'name'"});
  }
  SECTION("mistyped field") {
    expect_error(with("strfx.json", [](json& c) { c["fx"] = "1000"; }),
                 {"camera 1", "'fx'", "number"});
    expect_error(with("fracw.json", [](json& c) { c["width"] = 12.5; }),
                 {"'width'", "integer"});
    expect_error(with("numname.json", [](json& c) { c["name"] = 5; }), {"'name'", "string"});
  }
  SECTION("non-positive sizes and focal lengths") {
    expect_error(with("w0.json", [](json& c) { c["width"] = 0; }), {"'width'", "positive"});
    expect_error(with("hneg.json", [](json& c) { c["height"] = -4; }), {"'height'", "positive"});
    expect_error(with("huge.json", [](json& c) { c["height"] = 1000000; }), {"'height'"});
    expect_error(with("fy0.json", [](json& c) { c["fy"] = 0.0; }), {"'fy'", "positive"});
  }
  SECTION("bad names") {
    expect_error(with("slash.json", [](json& c) { c["name"] = "a/b"; }), {"'name'"});
    expect_error(with("dup.json", [](json& c) { c["name"] = "first"; }), {"'name'", "repeats"});
  }
  SECTION("bad matrices") {
    expect_error(with("rows.json", [](json& c) { c["world_to_camera"].erase(3); }),
                 {"'world_to_camera'", "4 rows"});
    expect_error(with("row.json", [](json& c) { c["world_to_camera"][1] = {1, 0, 0}; }),
                 {"'world_to_camera'", "row 1"});
    expect_error(with("str.json", [](json& c) { c["world_to_camera"][2][2] = "1"; }),
                 {"'world_to_camera'", "[2][2]"});
    expect_error(with("last.json", [](json& c) { c["world_to_camera"][3][2] = 0.5; }),
                 {"'world_to_camera'", "last row"});
    expect_error(with("scaled.json",
                      [](json& c) {
                        c["world_to_camera"][0][1] = -2;
                        c["world_to_camera"][1][0] = 2;
                      }),
                 {"'world_to_camera'", "rigid"});
    expect_error(with("mirror.json", [](json& c) { c["world_to_camera"][2][2] = -1; }),
                 {"'world_to_camera'", "reflection"});
  }
  SECTION("non-finite values") {
    // JSON has no NaN literal; a literal past the double range is refused by the parser.
    const std::string path = dir / "inf.json";
    std::string text = json{{"cameras", {good_camera("x")}}}.dump();
    text.replace(text.find("\"cx\":32"), 7, "\"cx\":1e999");
    std::ofstream(path) << text;
    expect_error(path, {"1e999"});
  }
}

TEST_CASE("the biker camera fixture is valid", "[io][cameras]") {
  const std::string path = std::string(GSTRAIN_TEST_FIXTURES) + "/biker_cameras.json";
  if (!fs::exists(path)) {
    GS_SKIP(path << " is absent");
    return;
  }
  const auto cams = read_cameras_json(path);
  REQUIRE_FALSE(cams.empty());
  for (const auto& c : cams) {
    CHECK(c.width == 1280);
    CHECK(c.height == 720);
  }
}
