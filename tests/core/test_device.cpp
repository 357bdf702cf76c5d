// Device parsing and detection: no GPU must mean "use the CPU", never a crash.
#include <catch2/catch.hpp>

#include <atomic>

#include "core/buffer.h"
#include "core/device.h"
#include "core/logging.h"
#include "core/parallel_for.h"

using namespace gs;

TEST_CASE("device specs parse", "[core][device]") {
  CHECK(resolve_device("cpu").is_cpu());
  const Device d = resolve_device("auto");
  std::string why;
  CHECK(d.is_cuda() == cuda_available(&why));
  CHECK_THROWS_AS(resolve_device("tpu"), Error);
  CHECK_THROWS_AS(resolve_device("cuda:x"), Error);
  if (!cuda_available(&why)) {
    CHECK_FALSE(why.empty());
    CHECK_THROWS_AS(resolve_device("cuda"), Error);
  }
  CHECK(Device::cuda(1).name() == "cuda:1");
}

TEST_CASE("parallel_for on the CPU visits every index once", "[core]") {
  const size_t n = 10007;
  Buffer<int> hits = Buffer<int>::zeros(Device::cpu(), n, MemCategory::other);
  int* h = hits.data();
  parallel_for(Device::cpu(), n, [=](size_t i) { h[i] += 1; });
  for (size_t i = 0; i < n; ++i) REQUIRE(h[i] == 1);
  parallel_for(Device::cpu(), 0, [=](size_t) { h[0] = 7; });
  CHECK(h[0] == 1);
}

TEST_CASE("log capture sees warnings", "[core]") {
  ScopedLogCapture cap;
  log_warn("careful: ", 42);
  CHECK(cap.warnings() == 1);
  CHECK(cap.text().find("careful: 42") != std::string::npos);
}
