// gstrain as users run it: `--plan --json` from any directory, the tiers' caps, the refusal
// exit code, usage errors, and a stopped-then-resumed CLI run.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/test_support.h"

using namespace std::string_literals;
namespace fs = std::filesystem;
using gs::test::CommandResult;
using gs::test::read_text;
using gs::test::run_command;
using gs::test::TempDir;

namespace {

std::string gstrain() { return std::string(GSTRAIN_BINARY_DIR) + "/bin/gstrain"; }

// Runs gstrain with `args` from inside `dir` (so bare preset names cannot resolve against the
// test's working directory), stdout/stderr captured.
CommandResult run_in(const TempDir& dir, const std::string& args) {
  return run_command(dir, "cd '" + dir.str() + "' && '" + gstrain() + "' " + args);
}

nlohmann::json plan_json(const TempDir& dir, const std::string& preset) {
  const CommandResult r = run_in(dir, "--plan --json --device cuda --config " + preset);
  INFO(preset << ": " << r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("gstrain --plan --json for omnire_12gb from any directory", "[cli][plan]") {
  TempDir dir("gstrain_cli");
  const nlohmann::json p = plan_json(dir, "omnire_12gb.yaml");
  for (const char* key : {"budget_bytes", "predicted_peak_bytes", "multiplier", "degrade", "nodes"})
    CHECK(p.contains(key));
  CHECK(p["predicted_peak_bytes"].get<double>() <= p["budget_bytes"].get<double>());
  CHECK(p["budget_bytes"].get<double>() == 12e9);
  const nlohmann::json& nodes = p["nodes"];
  REQUIRE(nodes.contains("background"));
  CHECK(nodes["background"]["sh_degree"] == 3);
  CHECK(nodes["background"]["param_bytes_per_gaussian"] == 236);
  for (const auto& [name, n] : nodes.items()) {
    for (const char* key : {"sh_degree", "param_bytes_per_gaussian", "bytes_per_gaussian",
                            "max_gaussians", "grad_threshold"})
      CHECK(n.contains(key));
  }
  // The plan is the one training uses: every node of the scene graph, humans at SH degree 1.
  for (const char* name : {"rigid", "deformable", "smpl"}) {
    INFO(name);
    REQUIRE(nodes.contains(name));
    CHECK(nodes[name]["max_gaussians"].get<double>() > 0);
  }
  CHECK(nodes["smpl"]["sh_degree"] == 1);
  CHECK(nodes["smpl"]["param_bytes_per_gaussian"] == 92);
  CHECK_FALSE(p.contains("not_planned"));
}

TEST_CASE("every node's max_gaussians grows with the tier, for each family", "[cli][plan]") {
  TempDir dir("gstrain_cli");
  for (const std::string family : {"static", "deformable", "omnire"}) {
    nlohmann::json prev;
    for (const int gb : {8, 12, 16, 24}) {
      const nlohmann::json p = plan_json(dir, family + "_" + std::to_string(gb) + "gb.yaml");
      CHECK(p["predicted_peak_bytes"].get<double>() <= p["budget_bytes"].get<double>());
      if (!prev.is_null()) {
        for (const auto& [name, n] : p["nodes"].items()) {
          if (n["max_gaussians"].get<int64_t>() == 0) continue;  // the sky holds none
          // Skeleton nodes never grow: their cap is their template's Gaussians on every tier.
          if (n["max_gaussians"] == prev["nodes"][name]["max_gaussians"] &&
              name == std::string("smpl"))
            continue;
          INFO(family << " " << gb << " GB, node " << name);
          CHECK(n["max_gaussians"].get<int64_t>() > prev["nodes"][name]["max_gaussians"].get<int64_t>());
        }
      }
      prev = p;
    }
  }
}

TEST_CASE("a budget that cannot fit is refused with what to change, exit 3", "[cli][plan]") {
  TempDir dir("gstrain_cli");
  const CommandResult r = run_in(dir, "--plan --config omnire_12gb.yaml --set memory.budget_gb=0.05");
  CHECK(r.code == 3);
  CHECK(r.out.find("DOES NOT FIT") != std::string::npos);
  CHECK(r.err.find("memory.budget_gb") != std::string::npos);
  CHECK(r.err.find("at least") != std::string::npos);
}

TEST_CASE("gstrain usage and config errors exit 2 with a message", "[cli]") {
  TempDir dir("gstrain_cli");
  const CommandResult unknown = run_in(dir, "--config static_12gb.yaml --bogus");
  CHECK(unknown.code == 2);
  CHECK(unknown.err.find("--bogus") != std::string::npos);
  CHECK(run_in(dir, "--plan").code == 2);  // no --config
  const CommandResult missing = run_in(dir, "--plan --config no_such_preset.yaml");
  CHECK(missing.code == 2);
  CHECK(missing.err.find("no_such_preset.yaml") != std::string::npos);
  const CommandResult key = run_in(dir, "--plan --config static_12gb.yaml --set train.iteratons=5");
  CHECK(key.code == 2);
  CHECK(key.err.find("train.iterations") != std::string::npos);  // the nearest valid key
  CHECK(run_in(dir, "--config static_12gb.yaml --stop-after 0").code == 2);
  const CommandResult data = run_in(dir, "--config static_12gb.yaml --device cpu --out out "
                                  "--data /nonexistent/scene --no-progress");
  CHECK(data.code == 2);  // input data missing or malformed: the user's input must change
  CHECK(data.err.find("/nonexistent/scene") != std::string::npos);
}

TEST_CASE("gstrain trains the embedded scene, stops with --stop-after and resumes", "[cli][train]") {
  TempDir dir("gstrain_cli");
  const std::string common =
      "--config static_12gb.yaml --device cpu --out run --no-progress "
      "--set train.iterations=60 --set train.log_every=20 --set memory.log_every=20 "
      "--set data.width=64 --set data.height=64";
  const CommandResult first = run_in(dir, common + " --stop-after 30");
  INFO(first.err);
  REQUIRE(first.code == 130);
  CHECK(first.err.find("--resume") != std::string::npos);
  CHECK(fs::exists(dir / "run/checkpoints/latest.ckpt"));
  CHECK_FALSE(fs::exists(dir / "run/point_cloud/iteration_60"));
  const CommandResult rest = run_in(dir, common + " --resume");
  INFO(rest.err);
  REQUIRE(rest.code == 0);
  CHECK(fs::exists(dir / "run/point_cloud/iteration_60/point_cloud.ply"));
  const nlohmann::json m = nlohmann::json::parse(read_text(dir / "run/metrics.json"));
  CHECK(m["iterations"] == 60);
  CHECK(m["test"]["views"].get<int>() > 0);
}

namespace {

// Starts a long training, waits until it has logged a step (the handlers are installed by
// then), sends `signal` (INT as a terminal's Ctrl-C, TERM as job schedulers and `docker stop`),
// and checks the run saved a checkpoint, exited with `expected_code` and saying `says`, and that
// --resume continues from it.
void stop_with_signal_and_resume(const std::string& signal, int expected_code,
                                 const std::string& says) {
  TempDir dir("gstrain_cli");
  const std::string common =
      "--config static_12gb.yaml --device cpu --out run --no-progress "
      "--set train.iterations=100000 --set train.log_every=10 --set data.width=64 "
      "--set data.height=64";
  const std::string script =
      "cd '" + dir.str() + "' && ('" + gstrain() + "' " + common +
      " >out.txt 2>err.txt & pid=$!; for i in $(seq 1 600); do "
      "[ -s run/train.jsonl ] && break; sleep 0.1; done; kill -" + signal + " $pid; wait $pid; "
      "echo $? > code.txt)";
  REQUIRE(std::system(script.c_str()) == 0);
  INFO(read_text(dir / "err.txt"));
  CHECK(read_text(dir / "code.txt") == std::to_string(expected_code) + "\n");
  CHECK(fs::exists(dir / "run/checkpoints/latest.ckpt"));
  CHECK(read_text(dir / "err.txt").find(says) != std::string::npos);
  // The checkpoint is a valid start: resume and stop right after.
  const CommandResult again = run_in(dir, common + " --resume --stop-after 1");
  INFO(again.err);
  CHECK(again.code == 130);
  CHECK(again.err.find("resumed") != std::string::npos);
}

}  // namespace

TEST_CASE("Ctrl-C saves a checkpoint and exits 130; --resume continues", "[cli][train]") {
  stop_with_signal_and_resume("INT", 130, "--resume");
}

// Before issue 9, SIGTERM killed the run without a checkpoint.
TEST_CASE("SIGTERM is handled as Ctrl-C: a checkpoint, exit 143, --resume continues",
          "[cli][train]") {
  stop_with_signal_and_resume("TERM", 143, "by SIGTERM");
}

TEST_CASE("a checkpoint corrupted on disk is refused, naming the file", "[cli][train]") {
  TempDir dir("gstrain_cli");
  const std::string common = "--config static_12gb.yaml --device cpu --out run --no-progress "
                             "--set train.iterations=60 --set train.log_every=10";
  const CommandResult first = run_in(dir, common + " --stop-after 30");
  REQUIRE(first.code == 130);
  const fs::path ckpt = dir / "run/checkpoints/latest.ckpt";
  REQUIRE(fs::exists(ckpt));
  SECTION("400 bytes flipped in the middle") {
    const size_t size = fs::file_size(ckpt);
    REQUIRE(size > 2000);
    std::fstream f(ckpt, std::ios::in | std::ios::out | std::ios::binary);
    std::string block(400, '\0');
    f.seekg(std::streamoff(size / 2));
    f.read(block.data(), 400);
    for (char& c : block) c = char(~c);
    f.seekp(std::streamoff(size / 2));
    f.write(block.data(), 400);
  }
  SECTION("cut short") { fs::resize_file(ckpt, fs::file_size(ckpt) - 100); }
  const CommandResult r = run_in(dir, common + " --resume");
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find("latest.ckpt") != std::string::npos);
  CHECK((r.err.find("checksum") != std::string::npos ||
         r.err.find("truncated") != std::string::npos));
}
