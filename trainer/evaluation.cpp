// Test-view evaluation (see evaluation.h).
#include "trainer/evaluation.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/errors.h"
#include "datasets/image_io.h"
#include "optim/loss.h"
#include "trainer/image_formation.h"
#include "trainer/train_images.h"

namespace gs {

namespace {
std::string safe_name(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  while (!out.empty() && out.front() == '_') out.erase(out.begin());
  return out.empty() ? "view" : out;
}
}  // namespace

EvalResult evaluate_views(RenderSet& set, const std::vector<View>& views,
                          const std::vector<HostImage>& images, const RasterSettings& settings,
                          const std::string& png_dir, int step, const EvalExtras& extras) {
  EvalResult r;
  if (views.empty()) return r;
  const Device& dev = set.nodes()[0]->model().device();
  if (!png_dir.empty()) std::filesystem::create_directories(png_dir);
  const TrainImages targets(dev, images, false);
  LossWorkspace ws;
  const size_t region_count = extras.regions ? extras.regions->size() : 0;
  std::vector<double> region_sq_error(region_count, 0.0);
  r.regions.resize(region_count);
  for (size_t k = 0; k < region_count; ++k) r.regions[k].name = extras.regions->at(k).name;
  for (size_t i = 0; i < views.size(); ++i) {
    const Camera& cam = views[i].camera;
    FrameContext frame;
    frame.step = step;
    frame.time = views[i].time;
    frame.frame = extras.frames ? extras.frames->at(i) : 0;
    frame.camera = &cam;
    frame.active_sh_degree = 3;  // every node's full degree (nodes clamp to their own)
    const RasterForward fwd = render_frame(set, frame, settings);
    const float* seen =
        extras.formation ? extras.formation->forward(cam, fwd, -1) : fwd.rgb.data();
    Buffer<float> target(dev, size_t(cam.width) * cam.height * 3, MemCategory::raster);
    targets.fetch(i, target);
    r.psnr += psnr(dev, cam.width, cam.height, seen, target.data());
    r.ssim += ssim_value(dev, cam.width, cam.height, seen, target.data(), &ws);
    bool any_region = false;
    for (size_t k = 0; k < region_count; ++k) {
      const HostMask* m = extras.regions->at(k).masks.at(i);
      any_region = any_region || (m && !m->empty());
    }
    if (png_dir.empty() && !any_region) continue;
    const size_t px = size_t(cam.width) * cam.height;
    std::vector<float> rgb(px * 3);
    copy_bytes(Device::cpu(), rgb.data(), dev, seen, px * 3 * sizeof(float));
    if (any_region) {
      const std::vector<float> t = target.to_host();
      for (size_t k = 0; k < region_count; ++k) {
        const HostMask* region = extras.regions->at(k).masks.at(i);
        if (!region || region->empty()) continue;
        GS_CHECK(region->values.size() == px, "region mask of view " + views[i].name);
        for (size_t p = 0; p < px; ++p) {
          if (region->values[p] < 128) continue;
          for (int c = 0; c < 3; ++c) {
            const double d = double(std::clamp(rgb[p * 3 + c], 0.0f, 1.0f)) - t[p * 3 + c];
            region_sq_error[k] += d * d;
          }
          ++r.regions[k].pixels;
        }
      }
    }
    if (!png_dir.empty()) {
      char prefix[32];
      std::snprintf(prefix, sizeof(prefix), "%03zu_", i);
      write_png(png_dir + "/" + prefix + safe_name(views[i].name) + ".png", rgb.data(), cam.width,
                cam.height, 3);
    }
  }
  r.views = views.size();
  r.psnr /= double(r.views);
  r.ssim /= double(r.views);
  for (size_t k = 0; k < region_count; ++k) {
    EvalResult::Region& reg = r.regions[k];
    if (reg.pixels == 0) continue;
    const double mse = region_sq_error[k] / double(3 * reg.pixels);
    reg.psnr = mse > 0 ? -10.0 * std::log10(mse) : 100.0;
  }
  return r;
}

}  // namespace gs
