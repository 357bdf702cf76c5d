// Helpers shared by the test files: a self-deleting temporary directory, whole-file and JSONL reads, and
// running a shell command with its output captured (the CLI tests run the real executables).
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/device.h"

namespace gs::test {

// CTest marks a test as skipped when its output holds this line (SKIP_REGULAR_EXPRESSION in
// tests/CMakeLists.txt), so tests that need a GPU or ../shared show as skipped, not passed.
constexpr const char* kSkipMarker = "GSTRAIN_TEST_SKIPPED";
inline void print_skip_marker(const std::string& why) {
  std::cout << kSkipMarker << ": " << why << std::endl;
}

// A fresh folder under the system temp dir, removed with everything in it when the object goes
// away. `tag` names the test in the path, so a leftover folder says where it came from.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("gstrain_" + tag + "_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  // The path of `rel` inside the folder (a file or a sub-folder).
  std::string operator/(const std::string& rel) const { return (path_ / rel).string(); }

 private:
  std::filesystem::path path_;
};

// The whole file as bytes; empty when it cannot be read.
inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A whole JSON file (metrics.json, transforms_*.json). Throws (failing the test) when the file
// cannot be read.
inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in.good()) throw std::runtime_error("cannot read '" + path + "'");
  return nlohmann::json::parse(in);
}

// One JSON value per non-empty line (train.jsonl, memory.jsonl). Throws (failing the test)
// when the file cannot be read.
inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in.good()) throw std::runtime_error("cannot read '" + path + "'");
  std::vector<nlohmann::json> lines;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

struct CommandResult {
  int code = -1;  // exit status, or 128 + signal
  std::string out, err;
};

// Runs `command` in a shell with stdout and stderr captured in files inside `dir`.
inline CommandResult run_command(const TempDir& dir, const std::string& command) {
  const std::string out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string cmd = command + " >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

}  // namespace gs::test

// Skips the rest of a test (the caller returns): says why in Catch's output and marks the test
// skipped for CTest. `msg` is a stream expression, as in WARN.
#define GS_SKIP(msg)                                            \
  do {                                                          \
    std::ostringstream gs_skip_text;                            \
    gs_skip_text << msg;                                        \
    ::gs::test::print_skip_marker(gs_skip_text.str());          \
    WARN("skipped: " << gs_skip_text.str());                    \
  } while (0)

namespace gs::test {

// Whether a CUDA device is usable; without one the calling [cuda] test is marked skipped (it
// then returns): `if (!have_gpu()) return;`.
inline bool have_gpu() {
  std::string why;
  if (cuda_available(&why)) return true;
  GS_SKIP("no CUDA device (" << why << ")");
  return false;
}

}  // namespace gs::test
