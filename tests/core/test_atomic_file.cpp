// write_file_atomic: a reader sees the old file or the whole new one, never a torn one, and no
// `<path>.tmp` is left behind, whatever fails (the writer throws, the stream goes bad, the
// directory cannot be written).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "tests/test_support.h"

using namespace gs;
using gs::test::read_text;
using gs::test::TempDir;

namespace fs = std::filesystem;

namespace {

// The IoError message of `fn`; fails the test when it throws nothing (or something else).
template <class Fn>
std::string io_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const IoError& e) {
    return e.what();
  }
  FAIL("expected an IoError");
  return "";
}

}  // namespace

TEST_CASE("atomic write creates a file and replaces an existing one", "[atomic]") {
  TempDir dir("atomic_ok");
  const std::string path = dir / "out.txt";
  write_file_atomic(path, std::string("first"));
  CHECK(read_text(path) == "first");
  write_file_atomic(path, [](std::ostream& out) { out << "second, " << 2; });
  CHECK(read_text(path) == "second, 2");
  const char bytes[4] = {'a', '\0', 'b', '\n'};
  write_file_atomic(path, bytes, sizeof(bytes));
  CHECK(read_text(path) == std::string(bytes, sizeof(bytes)));
  CHECK_FALSE(fs::exists(path + ".tmp"));
}

TEST_CASE("atomic write: a throwing writer leaves the old file and no .tmp", "[atomic]") {
  TempDir dir("atomic_throw");
  const std::string path = dir / "out.txt";
  write_file_atomic(path, std::string("old content"));
  CHECK_THROWS_WITH(write_file_atomic(path,
                                      [](std::ostream& out) {
                                        out << "half of the new content";
                                        throw std::runtime_error("writer gave up");
                                      }),
                    "writer gave up");
  CHECK(read_text(path) == "old content");
  CHECK_FALSE(fs::exists(path + ".tmp"));

  // Without an old file, nothing appears at all.
  const std::string fresh = dir / "fresh.txt";
  CHECK_THROWS_AS(write_file_atomic(fresh, [](std::ostream&) { throw IoError("no"); }), IoError);
  CHECK_FALSE(fs::exists(fresh));
  CHECK_FALSE(fs::exists(fresh + ".tmp"));
}

TEST_CASE("atomic write: a failed stream throws IoError naming the path, no .tmp", "[atomic]") {
  TempDir dir("atomic_bad");
  const std::string path = dir / "out.bin";
  write_file_atomic(path, std::string("old"));
  const std::string msg = io_error_of([&] {
    write_file_atomic(path, [](std::ostream& out) {
      out << "partial";
      out.setstate(std::ios::badbit);  // what a write refused by the disk (ENOSPC) does
    });
  });
  CHECK_THAT(msg, Catch::Contains(path));
  CHECK(read_text(path) == "old");
  CHECK_FALSE(fs::exists(path + ".tmp"));
}

TEST_CASE("atomic write into a directory that cannot be written throws IoError", "[atomic]") {
  TempDir dir("atomic_dir");
  SECTION("the directory does not exist") {
    const std::string path = dir / "missing/out.txt";
    CHECK_THAT(io_error_of([&] { write_file_atomic(path, std::string("x")); }),
               Catch::Contains(path));
    CHECK_FALSE(fs::exists(dir / "missing"));
  }
  SECTION("the 'directory' is a regular file") {
    write_file_atomic(dir / "file", std::string("x"));
    const std::string path = dir / "file/out.txt";
    CHECK_THAT(io_error_of([&] { write_file_atomic(path, std::string("x")); }),
               Catch::Contains(path));
    CHECK(read_text(dir / "file") == "x");
  }
}

// Its own test case: as root it is skipped, and a skip marks the whole test case for CTest.
TEST_CASE("atomic write into a read-only directory throws IoError", "[atomic]") {
  if (::geteuid() == 0) {
    GS_SKIP("running as root: permissions do not stop root from writing");
    return;
  }
  TempDir dir("atomic_ro");
  const fs::path ro = dir.path() / "readonly";
  fs::create_directories(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  const std::string path = (ro / "out.txt").string();
  const std::string msg = io_error_of([&] { write_file_atomic(path, std::string("x")); });
  fs::permissions(ro, fs::perms::owner_all);  // so that TempDir can remove it
  CHECK_THAT(msg, Catch::Contains(path));
  CHECK(fs::is_empty(ro));
}
