// Training checkpoints: every node's parameters, Adam moments and densification statistics,
// plus a JSON header (step, node layout, trainer state such as RNG and thresholds). Written
// atomically (temporary file + rename) so a crash or Ctrl-C never leaves a torn checkpoint.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/buffer.h"
#include "scene/gaussian_model.h"

namespace gs {

// A named array saved after the nodes (e.g. the deformation MLP's weights and Adam moments).
struct CheckpointTensor {
  std::string name;
  Buffer<float>* buffer = nullptr;  // any device; restored in place, so sizes must match
};

void save_checkpoint(const std::string& path, int step, const std::vector<GaussianModel*>& nodes,
                     const nlohmann::json& trainer_state,
                     const std::vector<CheckpointTensor>& tensors = {});

struct LoadedCheckpoint {
  int step = 0;
  nlohmann::json trainer_state;
};

// Restores into existing nodes (same names and SH degrees, capacity ≥ the saved count).
// Throws IoError naming the file and what does not match.
// Tensors are matched by name and size. Throws IoError naming the file and what does not match.
LoadedCheckpoint load_checkpoint(const std::string& path, const std::vector<GaussianModel*>& nodes,
                                 const std::vector<CheckpointTensor>& tensors = {});

}  // namespace gs
