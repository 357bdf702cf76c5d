// The Deformable-3DGS node (see deformable_node.h).
#include "scene/deformable_node.h"

#include <cstdio>

#include "core/errors.h"
#include "core/logging.h"
#include "optim/adam.h"

namespace gs {

namespace {

// The first `count` floats of a device buffer, on the host.
std::vector<float> copy_rows(const Device& dev, const float* src, size_t count) {
  std::vector<float> host(count);
  copy_bytes(Device::cpu(), host.data(), dev, src, count * sizeof(float));
  return host;
}

}  // namespace

DeformationFieldConfig deformation_field_config(const Config& cfg) {
  const DeformConfig& d = cfg.deform;
  DeformationFieldConfig fc;
  fc.depth = d.depth;
  fc.width = d.width;
  fc.skip_after = d.skip_layer;
  fc.encoding.position_freqs = d.position_frequencies;
  fc.encoding.time_freqs = d.time_frequencies;
  fc.seed = cfg.train.seed;
  return fc;
}

size_t planned_mlp_chunk(size_t chunk) {
  GS_CHECK(chunk > 0, "the plan has no MLP chunk for a deformable node");
  return chunk;
}

DeformableNode::DeformableNode(const NodeSetup& s)
    : GaussianNode(s),
      field_(deformation_field_config(*s.config), s.device, s.capacity,
             planned_mlp_chunk(s.mlp_chunk)) {
  const DeformConfig& d = cfg_.deform;
  log_info("deformation field: ", d.depth, "x", d.width, " MLP, skip after layer ", d.skip_layer,
           ", encoding L=", d.position_frequencies, "/", d.time_frequencies, ", ",
           field_.mlp().params().size(), " weights; ", field_.chunk_rows(),
           " Gaussians per chunk; ", format_bytes(field_.bytes()), " allocated (",
           format_bytes(field_.activation_bytes()), " activations); switches on after step ",
           d.warmup_steps);
}

GaussianInputs DeformableNode::placed_gaussians(const FrameContext& frame) {
  GaussianInputs in = model_.inputs(nullptr);
  if (!deforming(frame.step)) return in;
  // The Gaussians deformed to the frame's time; colours see the deformed means.
  field_.forward(model_.params(GaussianParam::means), model_.params(GaussianParam::log_scales),
                 model_.params(GaussianParam::quats), model_.count(), frame.time);
  in.means = field_.deformed_means();
  in.log_scales = field_.deformed_log_scales();
  in.quats = field_.deformed_quats();
  return in;
}

void DeformableNode::transform_backward(const FrameContext& frame, const NodeGradients& g) {
  if (!deforming(frame.step)) return;
  // Gradients of the deformed Gaussians → canonical ones (in place) and the MLP's weights.
  field_.mlp().zero_grad();
  field_.backward(model_.params(GaussianParam::means), model_.params(GaussianParam::log_scales),
                  model_.params(GaussianParam::quats), model_.count(), frame.time, g.v_means,
                  g.v_log_scales, g.v_quats);
}

void DeformableNode::optimizer_step(int step, const NodeGradients& g) {
  GaussianNode::optimizer_step(step, g);
  if (!deforming(step)) return;
  // The MLP's own Adam: its step count starts when it switches on (as its optimizer's does in
  // Deformable-3DGS); its learning rate follows the global step.
  AdamSettings a;
  a.zero_grad = false;
  ParamGroup pd;
  pd.name = "deform_mlp";
  pd.params = field_.mlp().params().data();
  pd.grads = field_.mlp().grads().data();
  pd.m = field_.adam_m().data();
  pd.v = field_.adam_v().data();
  pd.count = field_.mlp().params().size();
  pd.lr = exponential_lr(step, cfg_.deform.lr, cfg_.deform.lr_final, cfg_.train.iterations);
  adam_step(model_.device(), pd, step - cfg_.deform.warmup_steps, a);
}

size_t DeformableNode::allocated_bytes() const {
  return GaussianNode::allocated_bytes() + field_.bytes();
}

NodeNetworkStatus DeformableNode::network_status(int step) const {
  NodeNetworkStatus s;
  s.present = true;
  s.active = deforming(step);
  s.chunk_rows = field_.chunk_rows();
  s.activation_bytes = field_.activation_bytes();
  s.state_bytes = field_.state_bytes();
  s.per_gaussian_bytes = double(field_.per_gaussian_bytes());
  s.recomputed_chunks = field_.recomputed_chunks();
  return s;
}

std::vector<NodeTensor> DeformableNode::checkpoint_tensors() {
  return {{"deform.mlp.params", &field_.mlp().params()},
          {"deform.mlp.adam_m", &field_.adam_m()},
          {"deform.mlp.adam_v", &field_.adam_v()}};
}

nlohmann::ordered_json DeformableNode::metrics(int step) const {
  nlohmann::ordered_json j = GaussianNode::metrics(step);
  j["deform"] = {{"active", deforming(step)},
                 {"warmup_steps", cfg_.deform.warmup_steps},
                 {"mlp_weights", field_.mlp().params().size()},
                 {"chunk_gaussians", field_.chunk_rows()},
                 {"state_bytes", field_.state_bytes()},
                 {"activation_bytes", field_.activation_bytes()},
                 {"per_gaussian_bytes", field_.per_gaussian_bytes()}};
  return j;
}

std::vector<NamedCloud> DeformableNode::export_clouds(int step) {
  std::vector<NamedCloud> out = GaussianNode::export_clouds(step);
  if (!deforming(step)) return out;
  // The deformed Gaussians at the chosen time: the canonical cloud with the deformed mean,
  // scale and rotation (opacity and SH are not deformed).
  FrameContext f;
  f.step = step;
  f.time = float(cfg_.deform.export_time);
  placed_gaussians(f);
  GaussianCloud c = model_.to_cloud();
  const size_t n = model_.count();
  const Device& dev = model_.device();
  c.means = copy_rows(dev, field_.deformed_means(), n * 3);
  c.log_scales = copy_rows(dev, field_.deformed_log_scales(), n * 3);
  c.quats = copy_rows(dev, field_.deformed_quats(), n * 4);
  char suffix[64];
  std::snprintf(suffix, sizeof(suffix), "deformed_t%.3f", f.time);
  char what[64];
  std::snprintf(what, sizeof(what), "deformed Gaussians at t = %g", f.time);
  out.push_back({suffix, std::move(c), what});
  return out;
}

}  // namespace gs
