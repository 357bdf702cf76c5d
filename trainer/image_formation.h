// What a street camera sees besides the Gaussians (DESIGN.md §5): the sky behind them, an
// environment cube map composited as rgb + sky·(1 − α), and a per-image exposure affine
// (I + A)·rgb + t on the training images, zero-initialised (drivestudio's affine transform,
// regularised by 1e-5·(|A| + |t|)). Both are trained with their own Adam. Static and deformable
// scenes have neither: the stage is then inactive and costs nothing.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "core/camera.h"
#include "rasterizer/rasterize.h"
#include "scene/scene_node.h"

namespace gs {

struct ImageFormationSetup {
  int sky_resolution = 0;     // cube face size in texels; 0: no sky
  size_t exposure_images = 0; // training images with an exposure affine; 0: none
  int width = 0, height = 0;  // the largest image
  double sky_lr = 0.01;       // drivestudio's EnvLight rate
  double exposure_lr = 1e-5;
};

class ImageFormation {
 public:
  ImageFormation(const Device& device, const ImageFormationSetup& setup);

  bool active() const { return has_sky() || has_exposure(); }
  bool has_sky() const { return setup_.sky_resolution > 0; }
  bool has_exposure() const { return setup_.exposure_images > 0; }

  // The image the camera sees (device, H×W×3): the rasterizer's rgb when inactive. `image` is
  // the training image's index for its exposure, or −1 (held-out views: no exposure).
  const float* forward(const Camera& camera, const RasterForward& raster, int image);

  // From ∂L/∂(what the camera sees) to ∂L/∂rgb of the rasterizer (written to v_raster_rgb,
  // which may be v_seen) and ∂L/∂alpha (added to v_alpha); the sky's and the exposure's own
  // gradients are kept for optimizer_step. Returns the exposure regulariser's loss.
  double backward(const Camera& camera, const RasterForward& raster, int image,
                  const float* v_seen, float* v_raster_rgb, float* v_alpha);

  void optimizer_step(int step, int image);

  size_t bytes() const;
  std::vector<NodeTensor> checkpoint_tensors();

 private:
  Device device_;
  ImageFormationSetup setup_;
  Buffer<float> texels_, texels_m_, texels_v_, v_texels_;
  Buffer<float> exposure_, exposure_m_, exposure_v_, v_exposure_;
  Buffer<float> composed_, seen_;  // H×W×3: after the sky, after the exposure
};

}  // namespace gs
