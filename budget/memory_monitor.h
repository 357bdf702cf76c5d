// The memory monitor (DESIGN.md §4): one JSON line per logged step in <out>/memory.jsonl with
// what the model predicted against what the accounting allocator measured, per-node counts,
// caps and thresholds, and the events since the last line; a console warning above 90% of the
// budget.
#pragma once

#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/memory_accounting.h"

namespace gs {

struct NodeMemoryStatus {
  std::string name;
  size_t gaussians = 0;
  size_t max_gaussians = 0;
  double grad_threshold = 0;
};

// The deformation network's memory, by role (a deformable node only).
struct MlpMemoryStatus {
  bool active = false;             // past the static warm-up
  size_t chunk_gaussians = 0;      // Gaussians per MLP chunk (sets the activation bytes)
  size_t activation_bytes = 0;     // encoded input + workspace of one chunk
  size_t state_bytes = 0;          // weights, gradients, Adam moments
  size_t per_gaussian_bytes = 0;   // deltas, their gradients, deformed copies (at capacity)
  size_t recomputed_chunks = 0;    // chunks whose forward the last backward recomputed
};

struct MemoryLogEntry {
  int step = 0;
  std::vector<NodeMemoryStatus> nodes;
  size_t predicted_bytes = 0;   // model's prediction of the accounted peak of this window
  double multiplier = 0;
  std::vector<std::string> events;
  std::optional<MlpMemoryStatus> mlp;
};

class MemoryMonitor {
 public:
  // Appends to `path` (creating it). `budget_bytes` is the user's budget; the accountant's cap
  // (budget less margin and context) is read from the accountant itself.
  MemoryMonitor(const std::string& path, const Device& device, size_t budget_bytes);
  ~MemoryMonitor();
  MemoryMonitor(const MemoryMonitor&) = delete;
  MemoryMonitor& operator=(const MemoryMonitor&) = delete;

  // Writes one line with the peak of the window since the previous line, then starts a new
  // window. Returns the window's measured peak (accounted bytes).
  size_t log(const MemoryLogEntry& entry);
  size_t run_peak_bytes() const { return run_peak_; }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
  Device device_;
  size_t budget_bytes_;
  size_t run_peak_ = 0;
  bool warned_ = false;
};

}  // namespace gs
