// The plain Gaussian node (see gaussian_node.h).
#include "scene/gaussian_node.h"

#include "core/errors.h"
#include "optim/adam.h"
#include "optim/adam_split.h"
#include "rasterizer/sh.h"
#include "scene/deformable_instance_node.h"
#include "scene/deformable_node.h"
#include "scene/rigid_node.h"
#include "scene/skeleton_node.h"

namespace gs {

GaussianNode::GaussianNode(const NodeSetup& s, bool tagged)
    : cfg_(*s.config),
      node_(*s.node),
      scene_extent_(s.scene_extent),
      model_(s.node->name, s.device, s.sh_degree, s.capacity, tagged, s.trainable) {
  if (s.trainable)
    v_sh_ = Buffer<float>::zeros(s.device, s.capacity * 3 * sh_coeff_count(s.sh_degree),
                                 MemCategory::grads);
}

GaussianInputs GaussianNode::placed_gaussians(const FrameContext&) { return model_.inputs(nullptr); }

GaussianInputs GaussianNode::place(const FrameContext& frame, float* colors_out) {
  GaussianInputs in = placed_gaussians(frame);
  const auto campos = camera_center(*frame.camera);
  sh_to_color_forward(model_.device(), model_.count(), model_.sh_degree(), frame.active_sh_degree,
                      model_.params(GaussianParam::sh), in.means, campos.data(), colors_out);
  placed_means_ = in.means;
  return in;
}

void GaussianNode::backward(const FrameContext& frame, const NodeGradients& g) {
  const auto campos = camera_center(*frame.camera);
  sh_to_color_backward(model_.device(), model_.count(), model_.sh_degree(),
                       frame.active_sh_degree, model_.params(GaussianParam::sh), placed_means_,
                       campos.data(), g.v_colors, v_sh_.data(), g.v_means);
  transform_backward(frame, g);
}

void GaussianNode::accumulate_stats(const NodeGradients& g, const Camera& cam) {
  if (cfg_.densify.absgrad)
    accumulate_densify_stats(model_, g.absgrad, g.radii, cam);
  else
    accumulate_densify_stats(model_, g.v_mean2d, g.radii, cam, 0.5f * cam.width,
                             0.5f * cam.height);
}

void GaussianNode::optimizer_step(int step, const NodeGradients& g) {
  // One group per parameter kind (the gradients are this step's buffers: no reset).
  AdamSettings a;
  a.zero_grad = false;
  const size_t n = model_.count();
  const int degree = model_.sh_degree();
  auto group = [&](GaussianParam p, float* grad, double lr) {
    ParamGroup pg;
    pg.name = to_string(p);
    pg.params = model_.params(p);
    pg.grads = grad;
    pg.m = model_.adam_m(p);
    pg.v = model_.adam_v(p);
    pg.row_size = group_row_floats(p, degree);
    pg.count = n * pg.row_size;
    pg.lr = lr;
    return pg;
  };
  const GaussianLearningRates lr = learning_rates(step);
  ParamGroup pm = group(GaussianParam::means, stored_means_grad(g), lr.position);
  adam_step(model_.device(), pm, step, a);
  ParamGroup ps = group(GaussianParam::log_scales, g.v_log_scales, lr.scale);
  adam_step(model_.device(), ps, step, a);
  ParamGroup pq = group(GaussianParam::quats, stored_quats_grad(g), lr.rotation);
  adam_step(model_.device(), pq, step, a);
  ParamGroup po = group(GaussianParam::opacity, g.v_opacity_logits, lr.opacity);
  adam_step(model_.device(), po, step, a);
  ParamGroup psh = group(GaussianParam::sh, v_sh_.data(), lr.sh_rest);
  adam_step_split_rows(model_.device(), psh, 3, lr.sh_dc, step, a);
}

GaussianLearningRates GaussianNode::learning_rates(int step) const {
  const TrainConfig& t = cfg_.train;
  GaussianLearningRates r;
  r.position = exponential_lr(step, t.lr_position_init * scene_extent_,
                              t.lr_position_final * scene_extent_, t.iterations);
  r.scale = t.lr_scale;
  r.rotation = t.lr_rotation;
  r.opacity = t.lr_opacity;
  r.sh_dc = t.lr_sh_dc;
  r.sh_rest = t.lr_sh_rest;
  return r;
}

DensifyResult GaussianNode::densify(const DensifySettings& s, std::mt19937_64& rng) {
  return densify_and_prune(model_, s, rng);
}

void GaussianNode::reset_opacity() { gs::reset_opacity(model_); }

size_t GaussianNode::prune_lowest(double fraction) { return prune_lowest_opacity(model_, fraction); }

size_t GaussianNode::allocated_bytes() const { return model_.allocated_bytes() + v_sh_.bytes(); }

nlohmann::ordered_json GaussianNode::metrics(int) const {
  nlohmann::ordered_json j;
  j["name"] = model_.name();
  j["capacity"] = model_.capacity();
  j["sh_degree"] = model_.sh_degree();
  return j;
}

std::vector<NamedCloud> GaussianNode::export_clouds(int) { return {{"", model_.to_cloud(), ""}}; }

std::unique_ptr<SceneNode> make_scene_node(const NodeSetup& setup) {
  switch (setup.node->kind) {
    case NodeKind::background: return std::make_unique<GaussianNode>(setup);
    // Street scenes' deformable node holds instances in box frames (a shared MLP with
    // per-instance embeddings); the Deformable-3DGS node deforms one world-space object.
    case NodeKind::deformable:
      if (setup.instances) return std::make_unique<DeformableInstanceNode>(setup);
      return std::make_unique<DeformableNode>(setup);
    case NodeKind::rigid: return std::make_unique<RigidNode>(setup);
    case NodeKind::skeleton: return std::make_unique<SkeletonNode>(setup);
    default:
      throw ConfigError("node '" + setup.node->name + "' of kind " + to_string(setup.node->kind) +
                            " is not trainable yet",
                        "remove the node from the config's nodes");
  }
}

}  // namespace gs
