// Error types and byte formatting.
#include "core/errors.h"

#include <cstdio>

namespace gs {

std::string format_bytes(size_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[64];
  if (u == 0)
    std::snprintf(buf, sizeof(buf), "%zu B", bytes);
  else
    std::snprintf(buf, sizeof(buf), "%.2f %s", v, units[u]);
  return buf;
}

BudgetExceeded::BudgetExceeded(const std::string& category, size_t requested_bytes,
                               size_t in_use_bytes, size_t budget_bytes)
    : OutOfMemoryError("memory budget exceeded: allocating " + format_bytes(requested_bytes) +
                           " for '" + category + "' with " + format_bytes(in_use_bytes) +
                           " in use would pass the budget of " + format_bytes(budget_bytes),
                       "raise memory.budget_gb, lower the Gaussian cap or the resolution, or "
                       "let the budget controller re-plan"),
      category_(category),
      requested_bytes_(requested_bytes),
      in_use_bytes_(in_use_bytes),
      budget_bytes_(budget_bytes) {}

DeviceOutOfMemory::DeviceOutOfMemory(const std::string& category, size_t requested_bytes)
    : OutOfMemoryError("device out of memory: could not allocate " +
                           format_bytes(requested_bytes) + " for '" + category + "'",
                       "lower memory.budget_gb so the plan leaves room for other processes"),
      requested_bytes_(requested_bytes) {}

void throw_check_failed(const char* cond, const std::string& msg, const char* file, int line) {
  throw Error(std::string(file) + ":" + std::to_string(line) + ": check '" + cond +
              "' failed: " + msg);
}

}  // namespace gs
