// Sky and exposure (see image_formation.h).
#include "trainer/image_formation.h"

#include "core/errors.h"
#include "optim/adam.h"
#include "rasterizer/exposure.h"
#include "rasterizer/sky_map.h"

namespace gs {

ImageFormation::ImageFormation(const Device& device, const ImageFormationSetup& s)
    : device_(device), setup_(s) {
  const size_t px3 = size_t(s.width) * size_t(s.height) * 3;
  if (has_sky()) {
    const size_t n = sky_map_floats(s.sky_resolution);
    texels_ = Buffer<float>::from_host(device, std::vector<float>(n, kSkyInitialValue),
                                       MemCategory::params);
    texels_m_ = Buffer<float>::zeros(device, n, MemCategory::optimizer);
    texels_v_ = Buffer<float>::zeros(device, n, MemCategory::optimizer);
    v_texels_ = Buffer<float>::zeros(device, n, MemCategory::grads);
    composed_ = Buffer<float>(device, px3, MemCategory::raster);
  }
  if (has_exposure()) {
    const size_t n = s.exposure_images * kExposureParams;
    exposure_ = Buffer<float>::zeros(device, n, MemCategory::params);
    exposure_m_ = Buffer<float>::zeros(device, n, MemCategory::optimizer);
    exposure_v_ = Buffer<float>::zeros(device, n, MemCategory::optimizer);
    v_exposure_ = Buffer<float>::zeros(device, kExposureParams, MemCategory::grads);
    seen_ = Buffer<float>(device, px3, MemCategory::raster);
  }
}

const float* ImageFormation::forward(const Camera& cam, const RasterForward& r, int image) {
  const float* rgb = r.rgb.data();
  if (has_sky()) {
    sky_composite_forward(device_, cam, setup_.sky_resolution, texels_.data(), rgb,
                          r.alpha.data(), composed_.data(), static_cast<float*>(nullptr));
    rgb = composed_.data();
  }
  if (has_exposure() && image >= 0) {
    GS_CHECK(size_t(image) < setup_.exposure_images, "exposure of an unknown image");
    exposure_forward(device_, size_t(cam.width) * cam.height,
                     exposure_.data() + size_t(image) * kExposureParams, rgb, seen_.data());
    rgb = seen_.data();
  }
  return rgb;
}

double ImageFormation::backward(const Camera& cam, const RasterForward& r, int image,
                                const float* v_seen, float* v_raster_rgb, float* v_alpha) {
  const size_t pixels = size_t(cam.width) * cam.height;
  const float* v = v_seen;
  double reg = 0;
  if (has_exposure() && image >= 0) {
    float* params = exposure_.data() + size_t(image) * kExposureParams;
    v_exposure_.zero();
    const float* before = has_sky() ? composed_.data() : r.rgb.data();
    exposure_backward(device_, pixels, static_cast<const float*>(params), before, v_seen,
                      v_raster_rgb, v_exposure_.data());
    reg = exposure_regularizer(device_, static_cast<const float*>(params),
                               kExposureRegularizerWeight, v_exposure_.data());
    v = v_raster_rgb;
  }
  if (has_sky()) {
    v_texels_.zero();
    sky_composite_backward(device_, cam, setup_.sky_resolution,
                           static_cast<const float*>(texels_.data()), r.alpha.data(), v, v_alpha,
                           v_texels_.data());
  }
  if (v != v_raster_rgb) copy_bytes(device_, v_raster_rgb, device_, v, pixels * 3 * sizeof(float));
  return reg;
}

void ImageFormation::optimizer_step(int step, int image) {
  AdamSettings a;
  a.zero_grad = false;
  if (has_sky()) {
    ParamGroup g;
    g.name = "sky";
    g.params = texels_.data();
    g.grads = v_texels_.data();
    g.m = texels_m_.data();
    g.v = texels_v_.data();
    g.count = texels_.size();
    g.lr = setup_.sky_lr;
    adam_step(device_, g, step, a);
  }
  if (has_exposure() && image >= 0) {
    const size_t off = size_t(image) * kExposureParams;
    ParamGroup g;
    g.name = "exposure";
    g.params = exposure_.data() + off;
    g.grads = v_exposure_.data();
    g.m = exposure_m_.data() + off;
    g.v = exposure_v_.data() + off;
    g.count = kExposureParams;
    g.lr = setup_.exposure_lr;
    adam_step(device_, g, step, a);
  }
}

size_t ImageFormation::bytes() const {
  return texels_.bytes() + texels_m_.bytes() + texels_v_.bytes() + v_texels_.bytes() +
         exposure_.bytes() + exposure_m_.bytes() + exposure_v_.bytes() + v_exposure_.bytes() +
         composed_.bytes() + seen_.bytes();
}

std::vector<NodeTensor> ImageFormation::checkpoint_tensors() {
  std::vector<NodeTensor> t;
  if (has_sky())
    t.insert(t.end(), {{"sky.texels", &texels_}, {"sky.adam_m", &texels_m_},
                       {"sky.adam_v", &texels_v_}});
  if (has_exposure())
    t.insert(t.end(), {{"exposure.params", &exposure_}, {"exposure.adam_m", &exposure_m_},
                       {"exposure.adam_v", &exposure_v_}});
  return t;
}

}  // namespace gs
