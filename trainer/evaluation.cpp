// Test-view evaluation (see evaluation.h).
#include "trainer/evaluation.h"

#include <filesystem>

#include "datasets/image_io.h"
#include "optim/loss.h"
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
                          const std::string& png_dir, int step) {
  EvalResult r;
  if (views.empty()) return r;
  const Device& dev = set.nodes()[0]->model().device();
  if (!png_dir.empty()) std::filesystem::create_directories(png_dir);
  const TrainImages targets(dev, images, false);
  LossWorkspace ws;
  for (size_t i = 0; i < views.size(); ++i) {
    const Camera& cam = views[i].camera;
    FrameContext frame;
    frame.step = step;
    frame.time = views[i].time;
    frame.camera = &cam;
    frame.active_sh_degree = 3;  // every node's full degree (nodes clamp to their own)
    const RasterForward fwd = render_frame(set, frame, settings);
    Buffer<float> target(dev, size_t(cam.width) * cam.height * 3, MemCategory::raster);
    targets.fetch(i, target);
    r.psnr += psnr(dev, cam.width, cam.height, fwd.rgb.data(), target.data());
    r.ssim += ssim_value(dev, cam.width, cam.height, fwd.rgb.data(), target.data(), &ws);
    if (!png_dir.empty()) {
      const std::vector<float> rgb = fwd.rgb.to_host();
      char prefix[32];
      std::snprintf(prefix, sizeof(prefix), "%03zu_", i);
      write_png(png_dir + "/" + prefix + safe_name(views[i].name) + ".png", rgb.data(), cam.width,
                cam.height, 3);
    }
  }
  r.views = views.size();
  r.psnr /= double(r.views);
  r.ssim /= double(r.views);
  return r;
}

}  // namespace gs
