// The training run: data → plan → capacity-allocated Gaussians → steps (render, loss,
// backward, Adam, densify under the budget) → logs, checkpoints, PLY, test metrics.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace gs {

struct TrainerOptions {
  bool resume = false;        // continue from <out>/checkpoints/latest.ckpt
  int progress = -1;          // 1: progress bar, 0: plain lines, -1: bar when stderr is a tty
  int stop_after = 0;         // > 0: checkpoint and stop after this step, as Ctrl-C would
};

struct TrainSummary {
  int iterations_done = 0;
  bool interrupted = false;   // stopped by a signal or stop_after (a checkpoint was saved)
  int stop_signal = 0;        // SIGINT or SIGTERM when a signal stopped it, else 0
  double train_seconds = 0;
  double test_psnr = 0, test_ssim = 0;
  size_t test_views = 0;
  size_t gaussians = 0;
  size_t peak_bytes = 0;      // accounted peak over the run
  size_t budget_bytes = 0;
};

// Runs a whole training from a validated config. Throws gs::Error subclasses on failure;
// a plan that does not fit throws PlanDoesNotFit; a run that goes wrong (NaN loss, divergence,
// an emptied node) throws TrainingFailed and leaves the last good checkpoint in place.
TrainSummary run_training(const Config& config, const TrainerOptions& options);

// Where the embedded default scene for a config lives (generated on first use).
std::string default_scene_dir(const Config& config);

}  // namespace gs
