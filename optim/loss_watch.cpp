// The loss watch (see loss_watch.h).
#include "optim/loss_watch.h"

#include <cmath>
#include <cstdio>

namespace gs {

std::string LossWatch::observe(int step, double loss) {
  if (!std::isfinite(loss)) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "the loss is %s", std::isnan(loss) ? "NaN" : "infinite");
    return buf;
  }
  smoothed_ = smoothed_ < 0 ? loss : (1 - kSmoothing) * smoothed_ + kSmoothing * loss;
  if (best_ < 0 || smoothed_ < best_) {
    best_ = smoothed_;
    best_step_ = step;
  }
  over_steps_ = smoothed_ > factor_ * best_ ? over_steps_ + 1 : 0;
  if (over_steps_ < patience_) return "";
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "the run diverged: its smoothed loss (%.4g) has stayed above %.3g x its best "
                "(%.4g at step %d) for %d steps",
                smoothed_, factor_, best_, best_step_, over_steps_);
  return buf;
}

nlohmann::json LossWatch::state() const {
  return {{"smoothed", smoothed_}, {"best", best_}, {"best_step", best_step_},
          {"over_steps", over_steps_}};
}

void LossWatch::restore(const nlohmann::json& s) {
  smoothed_ = s.value("smoothed", smoothed_);
  best_ = s.value("best", best_);
  best_step_ = s.value("best_step", best_step_);
  over_steps_ = s.value("over_steps", over_steps_);
}

}  // namespace gs
