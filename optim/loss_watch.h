// Watches a run's loss for the failures a user must hear about instead of a quiet bad result:
// a non-finite loss, and divergence (the smoothed loss far above its best for many steps, as a
// run with learning rates of 1 does). An opacity reset lifts the loss for a few hundred steps;
// the patience is set well beyond that.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace gs {

class LossWatch {
 public:
  // factor: how far above its best the smoothed loss may go; patience: for how many steps.
  LossWatch(double factor, int patience) : factor_(factor), patience_(patience) {}

  // Feeds one step's loss. Returns "" while the run may go on, else why it must stop.
  std::string observe(int step, double loss);
  // Whether the model is worth a checkpoint now (finite, not above factor × best).
  bool healthy() const { return smoothed_ >= 0 && over_steps_ == 0; }
  double smoothed() const { return smoothed_; }
  double best() const { return best_; }

  // For checkpoints, so a resumed run judges as the uninterrupted one would.
  nlohmann::json state() const;
  void restore(const nlohmann::json& state);

 private:
  static constexpr double kSmoothing = 0.05;  // EMA weight of the newest step (~20 steps)
  double factor_;
  int patience_;
  double smoothed_ = -1;  // < 0: no step seen yet
  double best_ = -1;
  int best_step_ = 0;
  int over_steps_ = 0;    // consecutive steps above factor × best
};

}  // namespace gs
