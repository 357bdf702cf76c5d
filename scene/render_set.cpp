// The render set (see render_set.h).
#include "scene/render_set.h"

#include "core/errors.h"

namespace gs {

RenderSet::RenderSet(const Device& device, std::vector<SceneNode*> nodes)
    : device_(device), nodes_(std::move(nodes)), offsets_(nodes_.size(), 0) {
  GS_CHECK(!nodes_.empty(), "a render set needs at least one node");
  size_t capacity = 0;
  for (const SceneNode* n : nodes_) capacity += n->model().capacity();
  colors_ = Buffer<float>(device_, capacity * 3, MemCategory::raster);
  if (nodes_.size() > 1) {
    means_ = Buffer<float>(device_, capacity * 3, MemCategory::raster);
    log_scales_ = Buffer<float>(device_, capacity * 3, MemCategory::raster);
    quats_ = Buffer<float>(device_, capacity * 4, MemCategory::raster);
    opacity_ = Buffer<float>(device_, capacity, MemCategory::raster);
  }
}

GaussianInputs RenderSet::assemble(const FrameContext& frame) {
  total_ = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    offsets_[i] = total_;
    total_ += nodes_[i]->count();
  }
  if (nodes_.size() == 1) {
    GaussianInputs in = nodes_[0]->place(frame, colors_.data());
    in.colors = colors_.data();
    return in;
  }
  // Several nodes: copy each one's placed Gaussians into its rows of the set.
  auto copy_rows = [&](float* dst, const float* src, size_t offset, size_t rows, size_t width) {
    if (rows > 0)
      copy_bytes(device_, dst + offset * width, device_, src, rows * width * sizeof(float));
  };
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const size_t off = offsets_[i], n = nodes_[i]->count();
    const GaussianInputs in = nodes_[i]->place(frame, colors_.data() + off * 3);
    GS_CHECK(in.count == n, "node '" + nodes_[i]->name() + "' placed a different count");
    copy_rows(means_.data(), in.means, off, n, 3);
    copy_rows(log_scales_.data(), in.log_scales, off, n, 3);
    copy_rows(quats_.data(), in.quats, off, n, 4);
    copy_rows(opacity_.data(), in.opacity_logits, off, n, 1);
  }
  GaussianInputs all;
  all.count = total_;
  all.means = means_.data();
  all.log_scales = log_scales_.data();
  all.quats = quats_.data();
  all.opacity_logits = opacity_.data();
  all.colors = colors_.data();
  return all;
}

NodeGradients RenderSet::slice(size_t i, RasterGradients& g, const RasterForward& fwd) const {
  const size_t o = offsets_.at(i);
  NodeGradients s;
  s.v_means = g.v_means.data() + o * 3;
  s.v_log_scales = g.v_log_scales.data() + o * 3;
  s.v_quats = g.v_quats.data() + o * 4;
  s.v_opacity_logits = g.v_opacity_logits.data() + o;
  s.v_colors = g.v_colors.data() + o * 3;
  s.absgrad = g.absgrad.data() + o * 2;
  s.v_mean2d = g.v_mean2d.data() + o * 2;
  s.radii = fwd.radii.data() + o;
  return s;
}

size_t RenderSet::bytes() const {
  return colors_.bytes() + means_.bytes() + log_scales_.bytes() + quats_.bytes() +
         opacity_.bytes();
}

RasterForward render_frame(RenderSet& set, const FrameContext& frame,
                           const RasterSettings& settings, GaussianInputs* inputs) {
  const GaussianInputs in = set.assemble(frame);
  if (inputs) *inputs = in;
  return rasterize_forward(set.nodes()[0]->model().device(), in, *frame.camera, settings);
}

}  // namespace gs
