// Device parsing and detection: no GPU must mean "use the CPU", never a crash.
#include <catch2/catch.hpp>

#include <atomic>

#include "core/buffer.h"
#include "core/device.h"
#include "core/logging.h"
#include "core/memory_accounting.h"
#include "core/parallel_for.h"
#include "tests/test_support.h"

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

TEST_CASE("the stream-ordered pool scope changes nothing on the CPU", "[core][device]") {
  const size_t before = MemoryAccountant::of(DeviceKind::CPU).snapshot().allocations;
  {
    StreamPoolScope scope(Device::cpu(), 1 << 20);
    Buffer<float> b(Device::cpu(), 1000, MemCategory::other);
    b[999] = 1.f;
    CHECK(b[999] == 1.f);
  }
  CHECK(stream_pool_reserved_high(Device::cpu()) == 0);
  CHECK(MemoryAccountant::of(DeviceKind::CPU).snapshot().allocations == before + 1);
}

// Buffers allocated inside the scope come from the pool and may outlive it (they are freed with
// cudaFreeAsync whenever they go); after the scope, cudaMalloc serves again.
TEST_CASE("CUDA stream-ordered pool scope: in, out, and buffers that outlive it",
          "[core][device][cuda]") {
  if (!cuda_available()) {
    gs::test::print_skip_marker("no CUDA device");
    return;
  }
  const Device gpu = Device::cuda(0);
  const size_t n = size_t(64) << 20;  // 256 MB of floats: far above any pool rounding
  stream_pool_reserved_high(gpu);    // restart the high-water mark
  Buffer<float> outlives;
  {
    StreamPoolScope scope(gpu, size_t(1) << 30);
    Buffer<float> a = Buffer<float>::zeros(gpu, n, MemCategory::other);
    outlives = Buffer<float>::from_host(gpu, std::vector<float>(1000, 2.f), MemCategory::other);
    CHECK(a.to_host(10) == std::vector<float>(10, 0.f));
    CHECK(stream_pool_reserved_high(gpu) >= n * sizeof(float));
  }
  CHECK(outlives.to_host(3) == std::vector<float>(3, 2.f));
  outlives = Buffer<float>();  // freed after the scope: cudaFreeAsync, no error
  synchronize(gpu);
  stream_pool_reserved_high(gpu);  // restart at what the trimmed pool holds now
  Buffer<float> b = Buffer<float>::zeros(gpu, n, MemCategory::other);
  CHECK(b.to_host(3) == std::vector<float>(3, 0.f));
  CHECK(stream_pool_reserved_high(gpu) < n * sizeof(float));  // b came from cudaMalloc
}
