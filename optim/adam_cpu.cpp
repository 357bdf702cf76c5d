// Adam on the CPU (the pass of adam_impl.h as an OpenMP loop), the public entry points that
// validate and dispatch to the CPU or CUDA backend, and the 3DGS learning-rate schedule.
#include <algorithm>
#include <cmath>
#include <string>

#include "core/errors.h"
#include "core/raw_memory.h"
#include "optim/adam.h"
#include "optim/adam_impl.h"

namespace gs {

namespace {

constexpr double kPi = 3.14159265358979323846;

void check_group(const ParamGroup& g, int step, const AdamSettings& s) {
  const std::string where = "Adam (group '" + g.name + "')";
  GS_CHECK(step >= 1, where + ": step must count from 1, got " + std::to_string(step));
  GS_CHECK(g.params && g.grads && g.m && g.v, where + ": null array");
  GS_CHECK(g.row_size >= 1, where + ": row_size must be at least 1");
  GS_CHECK(!g.skip_rows || g.count % g.row_size == 0,
           where + ": count is not a whole number of rows");
  if (!(std::isfinite(g.lr) && g.lr >= 0))
    throw Error(where + ": invalid learning rate " + std::to_string(g.lr),
                "learning rates must be finite and non-negative");
  if (!(s.beta1 >= 0 && s.beta1 < 1 && s.beta2 >= 0 && s.beta2 < 1 && s.eps >= 0))
    throw Error(where + ": invalid settings beta1=" + std::to_string(s.beta1) +
                    " beta2=" + std::to_string(s.beta2) + " eps=" + std::to_string(s.eps),
                "betas must lie in [0, 1) and eps must be non-negative");
}

}  // namespace

void adam_step(const Device& device, ParamGroup& group, int step, const AdamSettings& settings) {
  if (group.count == 0) return;
  check_group(group, step, settings);
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    detail::adam_step_cuda(device, group, step, settings);
    return;
#else
    throw Error("Adam: a CUDA device was requested but gstrain was built without CUDA",
                "use device: cpu, or rebuild with the CUDA toolkit (-DGSTRAIN_CUDA=ON)");
#endif
  }
  adam_passes::adam_pass<float>(device, group.count, group.params, group.grads, group.m, group.v,
                                group.row_size, group.skip_rows,
                                adam_math::adam_coefficients<float>(group.lr, step, settings),
                                settings.zero_grad);
}

void adam_reset_rows(const Device& device, ParamGroup& group, size_t row_begin, size_t row_end) {
  GS_CHECK(row_begin <= row_end, "adam_reset_rows: empty-or-reversed range");
  GS_CHECK(group.row_size >= 1 && row_end * group.row_size <= group.count,
           "adam_reset_rows: rows past the active count of group '" + group.name + "'");
  if (row_begin == row_end) return;
  GS_CHECK(group.m && group.v, "adam_reset_rows: null moments in group '" + group.name + "'");
  const size_t first = row_begin * group.row_size;
  const size_t bytes = (row_end - row_begin) * group.row_size * sizeof(float);
  zero_bytes(device, group.m + first, bytes);
  zero_bytes(device, group.v + first, bytes);
}

double exponential_lr(int step, double lr_init, double lr_final, int max_steps, int delay_steps,
                      double delay_mult) {
  if (lr_init == 0 && lr_final == 0) return 0;
  if (!(lr_init > 0 && lr_final > 0))
    throw Error("exponential_lr: rates must both be positive (or both 0), got " +
                    std::to_string(lr_init) + " → " + std::to_string(lr_final),
                "check the position learning rates in the config");
  GS_CHECK(max_steps > 0, "exponential_lr: max_steps must be positive");
  if (step < 0) return 0;
  double warmup = 1.0;
  if (delay_steps > 0) {
    const double u = std::clamp(double(step) / delay_steps, 0.0, 1.0);
    warmup = delay_mult + (1.0 - delay_mult) * std::sin(0.5 * kPi * u);
  }
  const double t = std::clamp(double(step) / max_steps, 0.0, 1.0);
  return warmup * std::exp(std::log(lr_init) * (1.0 - t) + std::log(lr_final) * t);
}

}  // namespace gs
