// Rendering held-out views of the trained Gaussians and scoring them (PSNR, SSIM), optionally
// writing the renders as PNGs.
#pragma once

#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "rasterizer/rasterize.h"
#include "scene/render_set.h"

namespace gs {

struct EvalResult {
  double psnr = 0, ssim = 0;  // means over the views
  size_t views = 0;
};

// Renders every view through the render set, with every node's full SH degree, at the views'
// times, the nodes as they are at `step`. When `png_dir` is not empty, writes
// <png_dir>/<index>_<name>.png for each view.
EvalResult evaluate_views(RenderSet& set, const std::vector<View>& views,
                          const std::vector<HostImage>& images, const RasterSettings& settings,
                          const std::string& png_dir, int step);

}  // namespace gs
