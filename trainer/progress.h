// Console progress: a one-line bar on a terminal (step/total, loss, PSNR, Gaussians, memory,
// it/s, ETA), plain periodic lines otherwise (logs, CI).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace gs {

struct ProgressState {
  int step = 0, total = 0;
  double loss = 0, psnr = 0;
  size_t gaussians = 0;
  size_t memory_bytes = 0, budget_bytes = 0;
};

class Progress {
 public:
  Progress(int mode /* 1 bar, 0 lines, -1 auto */, int line_every);
  // Called every step; draws at most ~10 times a second (bar) or every `line_every` steps.
  void update(const ProgressState& s);
  void finish();
  // Prints a message without garbling the bar.
  void message(const std::string& text);

 private:
  void draw(const ProgressState& s, bool force_line);
  bool bar_ = false;
  int line_every_ = 100;
  int first_step_ = -1;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  // The rate shown is recent, not the run's average: a deformable run slows down severalfold
  // when its MLP switches on, and an average would promise an ETA that never comes.
  std::chrono::steady_clock::time_point rate_time_;
  int rate_step_ = -1;
  double rate_ = 0;  // steps per second, smoothed
};

}  // namespace gs
