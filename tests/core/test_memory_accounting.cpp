// The accounting allocator: per-category current/peak bytes, the cap, and its error contents.
#include <catch2/catch.hpp>

#include "core/buffer.h"
#include "core/memory_accounting.h"

using namespace gs;

namespace {
MemoryAccountant& cpu_acc() { return MemoryAccountant::of(DeviceKind::CPU); }
}  // namespace

TEST_CASE("buffers are accounted per category with current and peak", "[core][memory]") {
  MemoryAccountant& acc = cpu_acc();
  const size_t base_total = acc.current_total();
  const size_t base_params = acc.current(MemCategory::params);
  acc.reset_peak();
  {
    Buffer<float> a(Device::cpu(), 1000, MemCategory::params);
    Buffer<double> b(Device::cpu(), 10, MemCategory::grads);
    CHECK(acc.current(MemCategory::params) == base_params + 4000);
    CHECK(acc.current_total() == base_total + 4080);
    {
      Buffer<char> c(Device::cpu(), 5000, MemCategory::raster);
      CHECK(acc.peak_total() == base_total + 9080);
    }
    CHECK(acc.current_total() == base_total + 4080);
    CHECK(acc.peak_total() == base_total + 9080);
    CHECK(acc.peak(MemCategory::raster) >= 5000);
  }
  CHECK(acc.current_total() == base_total);
  CHECK(acc.current(MemCategory::params) == base_params);
  acc.reset_peak();
  CHECK(acc.peak_total() == base_total);
}

TEST_CASE("moving a buffer moves ownership, not bytes", "[core][memory]") {
  MemoryAccountant& acc = cpu_acc();
  const size_t base = acc.current_total();
  Buffer<int> a(Device::cpu(), 100, MemCategory::other);
  Buffer<int> b = std::move(a);
  CHECK(acc.current_total() == base + 400);
  CHECK(a.size() == 0);
  CHECK(b.size() == 100);
  b = Buffer<int>();
  CHECK(acc.current_total() == base);
}

TEST_CASE("host round trip through a buffer", "[core][memory]") {
  std::vector<float> host = {1, 2, 3, 4.5f};
  auto buf = Buffer<float>::from_host(Device::cpu(), host, MemCategory::other);
  CHECK(buf.to_host() == host);
  buf.zero();
  CHECK(buf.to_host() == std::vector<float>(4, 0.0f));
}

TEST_CASE("the cap refuses an allocation past the budget with a typed error", "[core][memory]") {
  MemoryAccountant& acc = cpu_acc();
  const size_t base = acc.current_total();
  ScopedMemoryCap cap(DeviceKind::CPU, base + 10000);
  Buffer<char> a(Device::cpu(), 6000, MemCategory::params);
  try {
    Buffer<char> b(Device::cpu(), 5000, MemCategory::optimizer);
    FAIL("allocation past the cap did not throw");
  } catch (const BudgetExceeded& e) {
    CHECK(e.category() == "optimizer");
    CHECK(e.requested_bytes() == 5000);
    CHECK(e.in_use_bytes() == base + 6000);
    CHECK(e.budget_bytes() == base + 10000);
    const std::string what = e.what();
    CHECK(what.find("optimizer") != std::string::npos);
    CHECK(what.find("budget") != std::string::npos);
    CHECK_FALSE(e.hint().empty());
  }
  // Nothing was recorded for the refused allocation, and what fits still fits.
  CHECK(acc.current_total() == base + 6000);
  CHECK(acc.headroom() == 4000);
  Buffer<char> c(Device::cpu(), 4000, MemCategory::optimizer);
  CHECK(acc.headroom() == 0);
  CHECK(acc.snapshot().refused >= 1);
}

TEST_CASE("BudgetExceeded and DeviceOutOfMemory share one base for recovery", "[core][memory]") {
  MemoryAccountant& acc = cpu_acc();
  acc.set_fault_injector([](MemCategory c, size_t) { return c == MemCategory::densify; });
  bool caught = false;
  try {
    Buffer<float> a(Device::cpu(), 16, MemCategory::densify);
  } catch (const OutOfMemoryError& e) {
    caught = dynamic_cast<const DeviceOutOfMemory*>(&e) != nullptr;
  }
  acc.set_fault_injector(nullptr);
  CHECK(caught);
  Buffer<float> ok(Device::cpu(), 16, MemCategory::densify);
  CHECK(ok.size() == 16);
}

TEST_CASE("format_bytes is readable", "[core]") {
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bytes(1536) == "1.50 KiB");
  CHECK(format_bytes(size_t(12) << 30) == "12.00 GiB");
}

TEST_CASE("an allocation the device refuses is counted as refused, not as made", "[core][memory]") {
  MemoryAccountant& acc = MemoryAccountant::of(DeviceKind::CPU);
  const MemorySnapshot before = acc.snapshot();
  acc.reserve(MemCategory::other, 4096);
  acc.refused_by_device(MemCategory::other, 4096);
  const MemorySnapshot after = acc.snapshot();
  CHECK(after.allocations == before.allocations);
  CHECK(after.refused == before.refused + 1);
  CHECK(after.current_total == before.current_total);
}
