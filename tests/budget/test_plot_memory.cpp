// scripts/plot_memory.py as users run it: a small memory.jsonl gives a PNG (signature and a
// sane IHDR), a malformed or empty log gives a non-zero exit. Skipped without python3 on PATH.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>
#include "tests/test_support.h"

namespace fs = std::filesystem;
using gs::test::TempDir;

namespace {

bool python3_available() {
  return std::system("command -v python3 >/dev/null 2>&1") == 0;
}

// Runs the plot script on `in` → `out`, output captured in `dir`; returns the exit status.
int plot(const TempDir& dir, const std::string& in, const std::string& out) {
  const std::string script = std::string(GSTRAIN_SOURCE_DIR) + "/scripts/plot_memory.py";
  const std::string cmd = "python3 '" + script + "' '" + in + "' '" + out + "' >'" +
                          (dir / "plot.log") + "' 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(f), {});
}

uint32_t be32(const std::vector<unsigned char>& b, size_t at) {
  return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | b[at + 3];
}

// Three logged steps of a two-node run, in the format trainer/memory_monitor.cpp writes.
const char* kFixture =
    R"({"step":1,"gaussians":{"background":4000,"rigid":1000},"gaussians_total":5000,)"
    R"("bytes":{"params":1180000,"grads":1180000,"optimizer":2360000,"densify":80000,"raster":500000,"mlp":0,"images":0,"other":0},)"
    R"("accounted_bytes":5300000,"peak_bytes":6100000,"run_peak_bytes":6100000,"device_used_bytes":null,)"
    R"("device_total_bytes":null,"budget_bytes":20000000,"cap_bytes":18000000,"predicted_bytes":6500000,)"
    R"("prediction_error":0.066,"multiplier":5.5,"max_gaussians":{"background":9000,"rigid":2000},)"
    R"("grad_threshold":{"background":0.0002,"rigid":0.0002},"refused_allocations":0,"events":[]})"
    "\n"
    R"({"step":100,"gaussians":{"background":6500,"rigid":1500},"gaussians_total":8000,)"
    R"("accounted_bytes":9000000,"peak_bytes":10200000,"budget_bytes":20000000,"cap_bytes":18000000,)"
    R"("predicted_bytes":10000000,"max_gaussians":{"background":9000,"rigid":2000},)"
    R"("events":["densify at step 100: 5000 -> 8000"]})"
    "\n"
    R"({"step":200,"gaussians":{"background":8600,"rigid":1900},"gaussians_total":10500,)"
    R"("accounted_bytes":11500000,"peak_bytes":12900000,"budget_bytes":20000000,"cap_bytes":18000000,)"
    R"("predicted_bytes":13100000,"max_gaussians":{"background":8600,"rigid":2000},)"
    R"("events":["recovered OOM at step 200 (cap): pruned 430 Gaussians, cap now 8600"]})"
    "\n";

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  REQUIRE(f.good());
}

}  // namespace

TEST_CASE("plot_memory.py writes a PNG from memory.jsonl", "[plot]") {
  if (!python3_available()) {
    WARN("python3 is not on PATH: skipping the plot_memory.py test");
    return;
  }
  TempDir dir("plot");
  const std::string in = dir / "memory.jsonl", out = dir / "memory.png";
  write_text(in, kFixture);
  REQUIRE(plot(dir, in, out) == 0);

  const std::vector<unsigned char> png = read_bytes(out);
  REQUIRE(png.size() > 8 + 25 + 12);
  const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  CHECK(std::equal(signature, signature + 8, png.begin()));
  // The first chunk is IHDR (13 bytes): width, height, bit depth 8, colour type 2 (RGB).
  CHECK(be32(png, 8) == 13);
  CHECK(std::string(png.begin() + 12, png.begin() + 16) == "IHDR");
  const uint32_t w = be32(png, 16), h = be32(png, 20);
  CHECK(w >= 320);
  CHECK(w <= 4096);
  CHECK(h >= 240);
  CHECK(h <= 4096);
  CHECK(png[24] == 8);
  CHECK(png[25] == 2);
  // Ends with the IEND chunk.
  CHECK(std::string(png.end() - 8, png.end() - 4) == "IEND");
}

TEST_CASE("plot_memory.py fails clearly on a malformed, empty or missing log", "[plot]") {
  if (!python3_available()) {
    WARN("python3 is not on PATH: skipping the plot_memory.py test");
    return;
  }
  TempDir dir("plot");
  const std::string out = dir / "out.png";

  const std::string bad = dir / "bad.jsonl";
  write_text(bad, std::string(R"({"step":1,"gaussians_total":10})") + "\n{\"step\": 2, oops\n");
  CHECK(plot(dir, bad, out) != 0);
  CHECK(!fs::exists(out));
  {
    std::ifstream log(dir / "plot.log");
    const std::string text((std::istreambuf_iterator<char>(log)), {});
    CHECK(text.find("bad.jsonl") != std::string::npos);  // the message names the file
    CHECK(text.find("line 2") != std::string::npos);
  }

  const std::string empty = dir / "empty.jsonl";
  write_text(empty, "");
  CHECK(plot(dir, empty, out) != 0);

  const std::string not_objects = dir / "list.jsonl";
  write_text(not_objects, "[1, 2, 3]\n");
  CHECK(plot(dir, not_objects, out) != 0);

  CHECK(plot(dir, (dir / "missing.jsonl"), out) != 0);
  CHECK(!fs::exists(out));
}
