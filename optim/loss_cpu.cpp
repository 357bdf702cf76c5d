// The image loss on the CPU (OpenMP passes from loss_impl.h, sums in double), the workspace,
// and the public entry points that validate arguments and dispatch to the CPU or CUDA backend.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/errors.h"
#include "core/host_sum.h"
#include "optim/loss.h"
#include "optim/loss_impl.h"

namespace gs {

namespace {

void check_images(int width, int height, const float* rendered, const float* target,
                  const char* what) {
  if (width <= 0 || height <= 0)
    throw Error(std::string(what) + ": invalid image size " + std::to_string(width) + "x" +
                    std::to_string(height),
                "width and height must be positive");
  GS_CHECK(rendered && target, std::string(what) + ": null image pointer");
  // The passes index elements in 32 bits.
  if (size_t(width) * size_t(height) * 3 >= (size_t(1) << 32))
    throw Error(std::string(what) + ": image " + std::to_string(width) + "x" +
                    std::to_string(height) + " is too large",
                "lower the training resolution");
}

#ifndef GSTRAIN_WITH_CUDA
[[noreturn]] void throw_no_cuda(const char* what) {
  throw Error(std::string(what) +
                  ": a CUDA device was requested but gstrain was built without "
                  "CUDA",
              "use device: cpu, or rebuild with the CUDA toolkit (-DGSTRAIN_CUDA=ON)");
}
#endif

loss_passes::LossMaps<float> maps_of(LossWorkspace& ws, int count) {
  loss_passes::LossMaps<float> maps{};
  for (int k = 0; k < count; ++k) maps.map[k] = ws.map(k);
  return maps;
}

}  // namespace

void LossWorkspace::reserve(const Device& device, int width, int height, int maps) {
  GS_CHECK(maps >= 1 && maps <= kLossMaps, "LossWorkspace::reserve: bad map count");
  const size_t floats = size_t(width) * size_t(height) * 3;
  const size_t needed = floats * size_t(maps);
  if (maps_.empty() || maps_.device() != device || maps_.size() < needed) {
    maps_.reset();  // free first: old and new must not coexist at the peak
    maps_ = Buffer<float>(device, needed, MemCategory::raster);
  }
  map_floats_ = floats;
  if (device.is_cuda() && (reduce_.empty() || reduce_.device() != device))
    reduce_ = Buffer<double>(device, 1, MemCategory::raster);
  if (device.is_cpu()) reduce_.reset();
}

void LossWorkspace::release() {
  maps_.reset();
  reduce_.reset();
  map_floats_ = 0;
}

LossResult image_loss_forward_backward(const Device& device, int width, int height,
                                       const float* rendered, const float* target,
                                       float lambda_dssim, float* v_rendered,
                                       LossWorkspace* workspace) {
  check_images(width, height, rendered, target, "image loss");
  if (!(lambda_dssim >= 0.f && lambda_dssim <= 1.f))
    throw Error("image loss: lambda_dssim = " + std::to_string(lambda_dssim) + " is outside [0, 1]",
                "set train.lambda_dssim between 0 and 1 (3DGS uses 0.2)");
  LossWorkspace local;
  LossWorkspace& ws = workspace ? *workspace : local;
  const int maps = v_rendered ? LossWorkspace::kLossMaps : LossWorkspace::kMomentMaps;
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    ws.reserve(device, width, height, maps);
    return detail::image_loss_cuda(device, width, height, rendered, target, lambda_dssim,
                                   v_rendered, ws);
#else
    throw_no_cuda("image loss");
#endif
  }
  ws.reserve(device, width, height, maps);
  return loss_passes::loss_forward_backward<float>(device, width, height, rendered, target,
                                                   double(lambda_dssim), v_rendered,
                                                   maps_of(ws, maps), HostSum{});
}

double ssim_value(const Device& device, int width, int height, const float* rendered,
                  const float* target, LossWorkspace* workspace) {
  check_images(width, height, rendered, target, "SSIM");
  return image_loss_forward_backward(device, width, height, rendered, target, 1.f, nullptr,
                                     workspace)
      .ssim;
}

double psnr(const Device& device, int width, int height, const float* rendered,
            const float* target) {
  check_images(width, height, rendered, target, "PSNR");
  const size_t n = size_t(width) * size_t(height) * 3;
  double sq = 0;
  if (device.is_cuda()) {
#ifdef GSTRAIN_WITH_CUDA
    sq = detail::squared_error_sum_cuda(device, n, rendered, target);
#else
    throw_no_cuda("PSNR");
#endif
  } else {
    sq = loss_passes::squared_diff_sum(device, n, rendered, target, HostSum{});
  }
  const double mse = sq / double(n);
  if (mse <= 0) return std::numeric_limits<double>::infinity();
  return -10.0 * std::log10(mse);
}

}  // namespace gs
