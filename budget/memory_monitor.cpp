// memory.jsonl writer (see memory_monitor.h).
#include "budget/memory_monitor.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/logging.h"

namespace gs {

MemoryMonitor::MemoryMonitor(const std::string& path, const Device& device, size_t budget_bytes)
    : path_(path), device_(device), budget_bytes_(budget_bytes) {
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) throw IoError("cannot open '" + path + "' for writing", "check --out is writable");
}

MemoryMonitor::~MemoryMonitor() {
  if (file_) std::fclose(file_);
}

size_t MemoryMonitor::log(const MemoryLogEntry& e) {
  MemoryAccountant& acc = MemoryAccountant::of(device_.kind);
  const MemorySnapshot s = acc.snapshot();
  run_peak_ = std::max(run_peak_, s.peak_total);

  nlohmann::ordered_json j;
  j["step"] = e.step;
  nlohmann::ordered_json g = nlohmann::ordered_json::object(), cap = g, thr = g;
  size_t total = 0;
  for (const NodeMemoryStatus& n : e.nodes) {
    g[n.name] = n.gaussians;
    cap[n.name] = n.max_gaussians;
    thr[n.name] = n.grad_threshold;
    total += n.gaussians;
  }
  j["gaussians"] = g;
  j["gaussians_total"] = total;
  nlohmann::ordered_json bytes = nlohmann::ordered_json::object(), peaks = bytes;
  for (int c = 0; c < kNumMemCategories; ++c) {
    bytes[to_string(MemCategory(c))] = s.current[c];
    peaks[to_string(MemCategory(c))] = s.peak[c];
  }
  j["bytes"] = bytes;
  j["peak_bytes_by_category"] = peaks;
  j["accounted_bytes"] = s.current_total;
  j["peak_bytes"] = s.peak_total;
  j["run_peak_bytes"] = run_peak_;
  if (auto info = device_memory_info(device_)) {
    j["device_used_bytes"] = info->total_bytes - info->free_bytes;
    j["device_total_bytes"] = info->total_bytes;
  } else {
    j["device_used_bytes"] = nullptr;
    j["device_total_bytes"] = nullptr;
  }
  j["budget_bytes"] = budget_bytes_;
  j["cap_bytes"] = s.cap_bytes;
  j["predicted_bytes"] = e.predicted_bytes;
  j["prediction_error"] =
      s.peak_total > 0 ? (double(e.predicted_bytes) - double(s.peak_total)) / double(s.peak_total)
                       : 0.0;
  j["multiplier"] = e.multiplier;
  j["max_gaussians"] = cap;
  j["grad_threshold"] = thr;
  j["allocations"] = s.allocations;  // buffers allocated so far (all kinds): per-step churn
  j["refused_allocations"] = s.refused;
  if (e.mlp)
    j["mlp"] = {{"active", e.mlp->active},
                {"chunk_gaussians", e.mlp->chunk_gaussians},
                {"activation_bytes", e.mlp->activation_bytes},
                {"state_bytes", e.mlp->state_bytes},
                {"per_gaussian_bytes", e.mlp->per_gaussian_bytes},
                {"recomputed_chunks", e.mlp->recomputed_chunks}};
  j["events"] = e.events;
  const std::string line = j.dump() + "\n";
  if (std::fputs(line.c_str(), file_) < 0 || std::fflush(file_) != 0)
    throw IoError("cannot write '" + path_ + "'", "check free disk space");

  const size_t limit = s.cap_bytes ? std::min(s.cap_bytes, budget_bytes_) : budget_bytes_;
  if (limit > 0 && double(s.peak_total) > 0.9 * double(limit)) {
    if (!warned_)
      log_warn("memory: peak ", format_bytes(s.peak_total), " at step ", e.step,
               " is above 90% of the usable budget (", format_bytes(limit), " of ",
               format_bytes(budget_bytes_),
               "); growth is limited to what fits, and a refused allocation is recovered");
    warned_ = true;
  } else {
    warned_ = false;
  }
  acc.reset_peak();
  return s.peak_total;
}

}  // namespace gs
