// OmniRe's deformable node (see deformable_instance_node.h).
#include "scene/deformable_instance_node.h"

#include <random>
#include <string>

#include "core/errors.h"
#include "core/logging.h"
#include "core/raw_memory.h"
#include "optim/adam.h"
#include "scene/box_bound.h"
#include "scene/deformable_node.h"

namespace gs {

namespace {

// drivestudio's rates for this node (configs/omnire.yaml, DeformableNodes.optim).
constexpr double kLrEmbedding = 1e-3, kLrEmbeddingFinal = 1e-4;
// The MLP decays from deform.lr to a tenth of it (drivestudio: 1.6e-3 → 1.6e-4; deform.lr_final
// is Deformable-3DGS's hundredth and is not used here).
constexpr double kMlpLrDecay = 0.1;
// The position rate's scale: drivestudio's xyz scale_factor 2 for this node, in place of the
// scene radius that scales the background's and the rigid node's.
constexpr double kPositionLrScale = 2.0;
// drivestudio's out-of-bound loss of its deformable nodes (reg.out_of_bound_loss): weight 1,
// until step 30000.
constexpr double kOutOfBoundWeight = 1.0;
constexpr int kOutOfBoundUntil = 30000;
// A seed offset so the embeddings do not repeat the MLP's first draws (both from train.seed).
constexpr uint64_t kEmbeddingSeedSalt = 0x9e3779b97f4a7c15ull;


}  // namespace

DeformationFieldConfig DeformableInstanceNode::field_config(const Config& cfg) {
  DeformationFieldConfig fc = deformation_field_config(cfg);
  fc.embedding_dim = kEmbeddingDim;
  fc.deform_scales = false;  // drivestudio's deform_scale: False
  return fc;
}

DeformableInstanceNode::DeformableInstanceNode(const NodeSetup& s)
    : RigidNode(s),
      field_(field_config(*s.config), s.device, s.capacity, planned_mlp_chunk(s.mlp_chunk)) {
  const RigidInstances& ri = instances();
  const size_t K = ri.count();
  // x / (h/2) on every axis: the box height sets the scale (drivestudio), so the network sees
  // the instance undistorted; a degenerate height leaves the mean unscaled.
  std::vector<float> inv(K * 3), inv_side(K * 3);
  for (size_t k = 0; k < K; ++k) {
    const float h = ri.box_size[k][2];
    for (size_t j = 0; j < 3; ++j) {
      inv[3 * k + j] = h > 0 ? 2.f / h : 1.f;
      const float b = ri.box_size[k][j];
      inv_side[3 * k + j] = b > 0 ? 1.f / b : 0.f;  // 0: a flat box side is never left
    }
  }
  // U(0, 1) as torch.rand; the [0, 1) draw from mt19937_64's top 53 bits (fixed by the standard,
  // unlike uniform_real_distribution), so every platform starts from the same embeddings.
  std::mt19937_64 gen(cfg_.train.seed ^ kEmbeddingSeedSalt);
  std::vector<float> e(K * size_t(kEmbeddingDim));
  for (float& v : e) v = float(double(gen() >> 11) * (1.0 / 9007199254740992.0));
  const Device& dev = s.device;
  inv_box_size_ = Buffer<float>::from_host(dev, inv, MemCategory::mlp);
  inv_box_side_ = Buffer<float>::from_host(dev, inv_side, MemCategory::params);
  embeddings_ = Buffer<float>::from_host(dev, e, MemCategory::mlp);
  embeddings_m_ = Buffer<float>::zeros(dev, e.size(), MemCategory::mlp);
  embeddings_v_ = Buffer<float>::zeros(dev, e.size(), MemCategory::mlp);
  v_embeddings_ = Buffer<float>::zeros(dev, e.size(), MemCategory::mlp);
  const DeformConfig& d = cfg_.deform;
  log_info("deformable node '", name(), "': ", K, " instances share a ", d.depth, "x", d.width,
           " MLP (skip after layer ", d.skip_layer, ", input ", field_.config().input_dim(),
           " = encoding L=", d.position_frequencies, "/", d.time_frequencies, " + ",
           kEmbeddingDim, "-d instance embedding; outputs dx, dq), ",
           field_.mlp().params().size(), " weights; ", field_.chunk_rows(),
           " Gaussians per chunk; ", format_bytes(field_.bytes()), " allocated (",
           format_bytes(field_.activation_bytes()), " activations); switches on after step ",
           d.warmup_steps);
}

FieldInstances<float> DeformableInstanceNode::field_instances(bool with_gradient) {
  FieldInstances<float> in;
  in.ids = model_.tags();
  in.count = instances().count();
  in.inv_box_size = inv_box_size_.data();
  in.embeddings = embeddings_.data();
  in.d_embeddings = with_gradient ? v_embeddings_.data() : nullptr;
  return in;
}

RigidNode::LocalGaussians DeformableInstanceNode::local_gaussians(const FrameContext& frame) {
  if (!deforming(frame.step)) return RigidNode::local_gaussians(frame);
  // The local Gaussians deformed to the frame's time, in their box frames.
  const FieldInstances<float> inst = field_instances(false);
  field_.forward(model_.params(GaussianParam::means), model_.params(GaussianParam::log_scales),
                 model_.params(GaussianParam::quats), model_.count(), frame.time, &inst);
  return {field_.deformed_means(), field_.deformed_quats()};
}

void DeformableInstanceNode::local_backward(const FrameContext& frame, float* v_means_local,
                                            float* v_quats_local) {
  const size_t n = model_.count();
  // The out-of-bound loss on the local means the pose moved: the deformed ones once the field
  // is on (its gradient then reaches the MLP and the embeddings), the stored ones before.
  if (frame.step < kOutOfBoundUntil) {
    const float* local = deforming(frame.step) ? field_.deformed_means()
                                               : model_.params(GaussianParam::means);
    add_out_of_bound_gradient(model_.device(), n, local, model_.tags(), inv_box_side_.data(),
                              inv_box_side_.size() / 3, kOutOfBoundWeight, v_means_local);
  }
  if (!deforming(frame.step)) return;
  // ∂L/∂(deformed local Gaussians) → the MLP's weights, the embeddings and, through
  // q/|q| + δq, the stored quaternions (in place). The scales pass through (no δs).
  field_.mlp().zero_grad();
  v_embeddings_.zero();
  const FieldInstances<float> inst = field_instances(true);
  field_.backward(model_.params(GaussianParam::means), model_.params(GaussianParam::log_scales),
                  model_.params(GaussianParam::quats), n, frame.time, v_means_local, nullptr,
                  v_quats_local, &inst);
  // The canonical means are detached once the field is on (drivestudio's
  // stop_optimizing_canonical_xyz): δx alone moves the Gaussians from here.
  zero_bytes(model_.device(), v_means_local, n * 3 * sizeof(float));
}

GaussianLearningRates DeformableInstanceNode::learning_rates(int step) const {
  GaussianLearningRates r = RigidNode::learning_rates(step);
  const TrainConfig& t = cfg_.train;
  r.position = exponential_lr(step, t.lr_position_init * kPositionLrScale,
                              t.lr_position_final * kPositionLrScale, t.iterations);
  return r;
}

void DeformableInstanceNode::optimizer_step(int step, const NodeGradients& g) {
  // Detached means get a zero gradient; without their first moment Adam's update is then
  // exactly zero, as torch's Adam skips a parameter that has no gradient (the momentum of the
  // warm-up would otherwise keep moving them for a few dozen steps after switch-on).
  if (deforming(step))
    zero_bytes(model_.device(), model_.adam_m(GaussianParam::means),
               model_.count() * 3 * sizeof(float));
  RigidNode::optimizer_step(step, g);
  if (!deforming(step)) return;
  // The MLP's and the embeddings' own Adam: their step counts start at switch-on (before it
  // they have no gradient, and torch's Adam does not count those steps); their learning rates
  // follow the global step.
  AdamSettings a;
  a.zero_grad = false;
  const int iters = cfg_.train.iterations, adam_t = step - cfg_.deform.warmup_steps;
  ParamGroup pd;
  pd.name = "deform_mlp";
  pd.params = field_.mlp().params().data();
  pd.grads = field_.mlp().grads().data();
  pd.m = field_.adam_m().data();
  pd.v = field_.adam_v().data();
  pd.count = field_.mlp().params().size();
  pd.lr = exponential_lr(step, cfg_.deform.lr, cfg_.deform.lr * kMlpLrDecay, iters);
  adam_step(model_.device(), pd, adam_t, a);
  ParamGroup pe;
  pe.name = "instance_embeddings";
  pe.params = embeddings_.data();
  pe.grads = v_embeddings_.data();
  pe.m = embeddings_m_.data();
  pe.v = embeddings_v_.data();
  pe.count = embeddings_.size();
  pe.lr = exponential_lr(step, kLrEmbedding, kLrEmbeddingFinal, iters);
  adam_step(model_.device(), pe, adam_t, a);
}

size_t DeformableInstanceNode::allocated_bytes() const {
  return RigidNode::allocated_bytes() + field_.bytes() + inv_box_size_.bytes() +
         inv_box_side_.bytes() +
         embeddings_.bytes() + embeddings_m_.bytes() + embeddings_v_.bytes() +
         v_embeddings_.bytes();
}

NodeNetworkStatus DeformableInstanceNode::network_status(int step) const {
  NodeNetworkStatus s;
  s.present = true;
  s.active = deforming(step);
  s.chunk_rows = field_.chunk_rows();
  s.activation_bytes = field_.activation_bytes();
  s.state_bytes = field_.state_bytes() + inv_box_size_.bytes() + embeddings_.bytes() +
                  embeddings_m_.bytes() + embeddings_v_.bytes() + v_embeddings_.bytes();
  s.per_gaussian_bytes = double(field_.per_gaussian_bytes());
  s.recomputed_chunks = field_.recomputed_chunks();
  return s;
}

std::vector<NodeTensor> DeformableInstanceNode::checkpoint_tensors() {
  std::vector<NodeTensor> t = RigidNode::checkpoint_tensors();
  const std::string p = "deform." + name() + ".";
  t.push_back({p + "mlp.params", &field_.mlp().params()});
  t.push_back({p + "mlp.adam_m", &field_.adam_m()});
  t.push_back({p + "mlp.adam_v", &field_.adam_v()});
  t.push_back({p + "embeddings", &embeddings_});
  t.push_back({p + "embeddings_m", &embeddings_m_});
  t.push_back({p + "embeddings_v", &embeddings_v_});
  return t;
}

nlohmann::ordered_json DeformableInstanceNode::metrics(int step) const {
  nlohmann::ordered_json j = RigidNode::metrics(step);  // with "instances"
  j["deform"] = {{"active", deforming(step)},
                 {"warmup_steps", cfg_.deform.warmup_steps},
                 {"mlp_weights", field_.mlp().params().size()},
                 {"embedding_dim", kEmbeddingDim},
                 {"chunk_gaussians", field_.chunk_rows()},
                 {"state_bytes", network_status(step).state_bytes},
                 {"activation_bytes", field_.activation_bytes()},
                 {"per_gaussian_bytes", field_.per_gaussian_bytes()}};
  return j;
}

std::vector<float> DeformableInstanceNode::embeddings() const { return embeddings_.to_host(); }

}  // namespace gs
