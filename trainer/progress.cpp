// Progress bar / periodic lines (see progress.h).
#include "trainer/progress.h"

#include <unistd.h>

#include <cstdio>

namespace gs {

namespace {
std::string hms(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "--:--";
  const long s = long(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof(buf), "%02ld:%02ld", s / 60, s % 60);
  return buf;
}
}  // namespace

Progress::Progress(int mode, int line_every) : line_every_(line_every > 0 ? line_every : 100) {
  bar_ = mode == 1 || (mode < 0 && isatty(fileno(stderr)));
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::update(const ProgressState& s) {
  if (first_step_ < 0) {
    first_step_ = s.step;
    start_ = std::chrono::steady_clock::now();
  }
  const auto now = std::chrono::steady_clock::now();
  if (bar_) {
    if (std::chrono::duration<double>(now - last_draw_).count() >= 0.1 || s.step == s.total) {
      draw(s, false);
      last_draw_ = now;
    }
  } else if (s.step % line_every_ == 0 || s.step == s.total) {
    draw(s, true);
  }
}

void Progress::draw(const ProgressState& s, bool line) {
  const auto now = std::chrono::steady_clock::now();
  if (rate_step_ < 0) {
    // The first draw may come microseconds after the start: no rate until a real window.
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    rate_ = elapsed > 0.5 ? (s.step - first_step_ + 1) / elapsed : 0;
  } else {
    const double dt = std::chrono::duration<double>(now - rate_time_).count();
    if (dt > 0 && s.step > rate_step_) {
      const double window = (s.step - rate_step_) / dt;
      // Lines come every log interval: take that window's rate. Bar redraws come every 0.1 s:
      // smooth them (from the first window on).
      rate_ = line || rate_ == 0 ? window : 0.9 * rate_ + 0.1 * window;
    }
  }
  rate_step_ = s.step;
  rate_time_ = now;
  const double its = rate_;
  const double eta = its > 0 ? (s.total - s.step) / its : -1;
  char buf[256];
  const double mem_gb = double(s.memory_bytes) / 1e9, bud_gb = double(s.budget_bytes) / 1e9;
  if (line) {
    std::snprintf(buf, sizeof(buf),
                  "step %d/%d  loss %.4f  psnr %.2f  gaussians %zu  mem %.3f/%.3f GB  %.1f it/s  "
                  "eta %s\n",
                  s.step, s.total, s.loss, s.psnr, s.gaussians, mem_gb, bud_gb, its, hms(eta).c_str());
    std::fputs(buf, stderr);
    return;
  }
  const int width = 24;
  const int fill = s.total > 0 ? int(double(width) * s.step / s.total) : 0;
  std::string bar(size_t(fill), '#');
  bar.append(size_t(width - fill), '.');
  std::snprintf(buf, sizeof(buf),
                "\r[%s] %d/%d loss %.4f psnr %.2f G %zu mem %.2f/%.2f GB %.1f it/s eta %s \033[K",
                bar.c_str(), s.step, s.total, s.loss, s.psnr, s.gaussians, mem_gb, bud_gb, its,
                hms(eta).c_str());
  std::fputs(buf, stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::message(const std::string& text) {
  if (bar_ && drawn_) std::fputs("\r\033[K", stderr);
  std::fprintf(stderr, "%s\n", text.c_str());
}

void Progress::finish() {
  if (bar_ && drawn_) std::fputs("\n", stderr);
  drawn_ = false;
}

}  // namespace gs
