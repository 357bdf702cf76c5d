// The photometric image loss of 3DGS, (1−λ)·L1 + λ·(1 − SSIM), with its gradient in one call,
// plus PSNR and SSIM for metrics. Images are H×W×3 interleaved floats on the given device.
#pragma once

#include <cstddef>

#include "core/buffer.h"
#include "core/device.h"

namespace gs {

// SSIM as in the common 3DGS implementation: 11×11 Gaussian window (σ = 1.5), C1 = 0.01²,
// C2 = 0.03², per channel, zero padding ("same" conv2d with padding 5), mean over every pixel
// and channel.
constexpr int kSsimRadius = 5;
constexpr double kSsimSigma = 1.5;
constexpr double kSsimC1 = 0.01 * 0.01;
constexpr double kSsimC2 = 0.03 * 0.03;

struct LossResult {
  double l1 = 0;    // mean |rendered − target|
  double ssim = 0;  // mean SSIM
  double loss = 0;  // (1−λ)·l1 + λ·(1 − ssim)
};

// Per-pixel scratch maps of the loss, kept across training steps so that they are allocated
// once (MemCategory::raster) instead of every step. The loss needs kLossMaps maps of H×W×3
// floats: five row-filtered moments (μx, μy, E[x²], E[y²], E[xy]) and three SSIM partials
// (∂S/∂μx, ∂S/∂E[x²], ∂S/∂E[xy]); the backward pass reuses three moment maps for the
// row-filtered partials. That is 8 × 3 × 4 = 96 bytes per pixel (60 for SSIM alone).
// On CUDA a few more bytes hold the reduction result.
class LossWorkspace {
 public:
  static constexpr int kMomentMaps = 5;
  static constexpr int kPartialMaps = 3;
  static constexpr int kLossMaps = kMomentMaps + kPartialMaps;
  static constexpr size_t kBytesPerPixel = size_t(kLossMaps) * 3 * sizeof(float);

  // Makes room for `maps` maps of a width×height image on `device`; reallocates only when the
  // device changes or the current allocation is too small. Throws BudgetExceeded under a cap.
  void reserve(const Device& device, int width, int height, int maps = kLossMaps);
  // Frees everything (e.g. before a resolution change, or to hand memory back to the planner).
  void release();
  size_t bytes() const { return maps_.bytes() + reduce_.bytes(); }

  // Map k (0 ≤ k < maps reserved) of the image last reserved; for the backends.
  float* map(int k) { return maps_.data() + size_t(k) * map_floats_; }
  double* reduce_slot() { return reduce_.data(); }  // one double on CUDA, null on the CPU

 private:
  Buffer<float> maps_;
  Buffer<double> reduce_;
  size_t map_floats_ = 0;
};

// Computes loss = (1−λ)·mean|r − t| + λ·(1 − mean SSIM(r, t)) and, when v_rendered is not
// null, overwrites v_rendered (H×W×3, same device) with ∂loss/∂rendered. `workspace` may be
// null (a temporary one is allocated); a trainer passes its own to allocate once.
LossResult image_loss_forward_backward(const Device& device, int width, int height,
                                       const float* rendered, const float* target,
                                       float lambda_dssim, float* v_rendered,
                                       LossWorkspace* workspace = nullptr);

// Mean SSIM (forward only). Needs 60 bytes per pixel of workspace.
double ssim_value(const Device& device, int width, int height, const float* rendered,
                  const float* target, LossWorkspace* workspace = nullptr);

// PSNR in dB of images with values in [0, 1]: −10·log10(mean (r − t)²); +∞ when identical.
double psnr(const Device& device, int width, int height, const float* rendered,
            const float* target);

}  // namespace gs
