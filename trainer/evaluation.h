// Rendering held-out views of the trained Gaussians and scoring them (PSNR, SSIM), optionally
// writing the renders as PNGs.
#pragma once

#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/street_scene.h"
#include "rasterizer/rasterize.h"
#include "scene/render_set.h"

namespace gs {

struct EvalResult {
  double psnr = 0, ssim = 0;  // means over the views
  size_t views = 0;
  // Per named region (e.g. "vehicle", "human"): PSNR over the pixels of its masks, all views'
  // pixels pooled; pixels 0 (and no PSNR) when the masks cover nothing.
  struct Region {
    std::string name;
    double psnr = 0;
    size_t pixels = 0;
  };
  std::vector<Region> regions;
};

// A region to score separately: its name and one mask per view (null entries: none).
struct EvalRegion {
  std::string name;
  std::vector<const HostMask*> masks;
};

class ImageFormation;

// What street views add: per view the frame (for instance poses), the sky behind the Gaussians
// (no exposure on held-out views), and regions to score separately (the vehicles' and the
// humans' dynamic masks).
struct EvalExtras {
  const std::vector<int>* frames = nullptr;  // per view
  ImageFormation* formation = nullptr;
  const std::vector<EvalRegion>* regions = nullptr;
};

// Renders every view through the render set, with every node's full SH degree, at the views'
// times, the nodes as they are at `step`. When `png_dir` is not empty, writes
// <png_dir>/<index>_<name>.png for each view.
EvalResult evaluate_views(RenderSet& set, const std::vector<View>& views,
                          const std::vector<HostImage>& images, const RasterSettings& settings,
                          const std::string& png_dir, int step, const EvalExtras& extras = {});

}  // namespace gs
