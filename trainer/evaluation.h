// Rendering held-out views of the trained Gaussians and scoring them (PSNR, SSIM), optionally
// writing the renders as PNGs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "rasterizer/rasterize.h"
#include "trainer/gaussian_model.h"

namespace gs {

struct EvalResult {
  double psnr = 0, ssim = 0;  // means over the views
  size_t views = 0;
};

// Where the model's Gaussians are for one view (e.g. deformed to the view's time). Returns the
// rasterizer inputs without colours (the evaluator computes them from SH at the returned means).
using ViewGaussians = std::function<GaussianInputs(const View&)>;

// Renders every view with the model's full SH degree; the Gaussians are the model's own, or
// `place(view)`'s when given. When `png_dir` is not empty, writes <png_dir>/<index>_<name>.png
// for each view.
EvalResult evaluate_views(const GaussianModel& model, const std::vector<View>& views,
                          const std::vector<HostImage>& images, const RasterSettings& settings,
                          const std::string& png_dir, const ViewGaussians& place = {});

}  // namespace gs
