// The rigid node (see rigid_node.h).
#include "scene/rigid_node.h"

#include <cmath>
#include <cstdio>

#include "core/errors.h"
#include "core/logging.h"
#include "core/quat_math.h"
#include "deform/rigid_transform.h"
#include "optim/adam.h"
#include "scene/temporal_smoothness.h"

namespace gs {

namespace {

// drivestudio's rates for the instance poses (OmniRe config), decayed over the run.
constexpr double kLrRotation = 1e-5, kLrRotationFinal = 5e-6;
constexpr double kLrTranslation = 5e-4, kLrTranslationFinal = 1e-4;
// A Gaussian whose local mean passes its box's half size × this is culled.
constexpr float kBoxCullMargin = 1.1f;
// drivestudio's temporal smoothness of the instance translations (RigidNodes and DeformableNodes
// reg.temporal_smooth_reg.trans): weight 0.01, neighbours drawn from 1 … 5 frames away.
constexpr double kTemporalWeight = 0.01;
constexpr int kTemporalRange = 5;

const RigidInstances& checked(const RigidInstances* r, const std::string& node) {
  if (r == nullptr || r->count() == 0)
    throw ConfigError("rigid node '" + node + "' has no instances in the data",
                      "rigid nodes need a street scene with vehicle boxes; remove the node");
  GS_CHECK(r->present.size() == size_t(r->frames) * r->count() &&
               r->box_to_world.size() == r->present.size(),
           "rigid instances: one pose and flag per (frame, instance)");
  return *r;
}

std::vector<float> host_rows(const Device& dev, const float* src, size_t count) {
  std::vector<float> h(count);
  copy_bytes(Device::cpu(), h.data(), dev, src, count * sizeof(float));
  return h;
}

}  // namespace

void pose_from_matrix(const std::array<float, 16>& m, float q[4], float t[3]) {
  const double r[9] = {m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10]};
  double qd[4];
  rmath::rotation_to_quat(r, qd);
  for (int k = 0; k < 4; ++k) q[k] = float(qd[k]);
  t[0] = m[3], t[1] = m[7], t[2] = m[11];
}

RigidNode::RigidNode(const NodeSetup& s)
    : GaussianNode(s, true), instances_(checked(s.instances, s.node->name)) {
  const size_t fk = instances_.present.size(), k = instances_.count();
  std::vector<float> q(fk * 4), t(fk * 3);
  for (size_t i = 0; i < fk; ++i) pose_from_matrix(instances_.box_to_world[i], &q[4 * i], &t[3 * i]);
  const Device& dev = s.device;
  pose_quats_ = Buffer<float>::from_host(dev, q, MemCategory::params);
  pose_trans_ = Buffer<float>::from_host(dev, t, MemCategory::params);
  quats_m_ = Buffer<float>::zeros(dev, fk * 4, MemCategory::optimizer);
  quats_v_ = Buffer<float>::zeros(dev, fk * 4, MemCategory::optimizer);
  trans_m_ = Buffer<float>::zeros(dev, fk * 3, MemCategory::optimizer);
  trans_v_ = Buffer<float>::zeros(dev, fk * 3, MemCategory::optimizer);
  present_ = Buffer<uint8_t>::from_host(dev, instances_.present, MemCategory::params);
  means_world_ = Buffer<float>(dev, s.capacity * 3, MemCategory::raster);
  quats_world_ = Buffer<float>(dev, s.capacity * 4, MemCategory::raster);
  opacity_world_ = Buffer<float>(dev, s.capacity, MemCategory::raster);
  v_means_local_ = Buffer<float>::zeros(dev, s.capacity * 3, MemCategory::grads);
  v_quats_local_ = Buffer<float>::zeros(dev, s.capacity * 4, MemCategory::grads);
  v_pose_quats_ = Buffer<float>::zeros(dev, k * 4, MemCategory::grads);
  v_pose_trans_ = Buffer<float>::zeros(dev, k * 3, MemCategory::grads);
  size_t untrained = 0;
  for (uint8_t f : instances_.trained_frame) untrained += f ? 0 : 1;
  log_info("rigid node '", name(), "': ", k, " instances over ", instances_.frames, " frames (",
           untrained, " untrained frames take interpolated poses)");
}

void RigidNode::interpolate_untrained_frame(int frame) {
  const size_t K = instances_.count();
  const int F = instances_.frames;
  const Device& dev = model_.device();
  const std::vector<float> q = host_rows(dev, pose_quats_.data(), size_t(F) * K * 4);
  const std::vector<float> t = host_rows(dev, pose_trans_.data(), size_t(F) * K * 3);
  std::vector<float> rq(q.begin() + long(row(frame) * 4), q.begin() + long((row(frame) + K) * 4));
  std::vector<float> rt(t.begin() + long(row(frame) * 3), t.begin() + long((row(frame) + K) * 3));
  auto usable = [&](int f, size_t k) {
    return f >= 0 && f < F && instances_.trained_frame[size_t(f)] &&
           instances_.present[row(f) + k];
  };
  auto pose_at = [&](int f, size_t k) {
    RigidPose p;
    for (int i = 0; i < 4; ++i) p.quat[size_t(i)] = q[(row(f) + k) * 4 + size_t(i)];
    for (int i = 0; i < 3; ++i) p.translation[size_t(i)] = t[(row(f) + k) * 3 + size_t(i)];
    return p;
  };
  for (size_t k = 0; k < K; ++k) {
    if (!instances_.present[row(frame) + k]) continue;
    int prev = frame - 1, next = frame + 1;
    while (prev >= 0 && !usable(prev, k)) --prev;
    while (next < F && !usable(next, k)) ++next;
    RigidPose p;
    if (prev >= 0 && next < F)
      p = interpolate_pose(pose_at(prev, k), pose_at(next, k),
                           double(frame - prev) / double(next - prev));
    else if (prev >= 0 || next < F)
      continue;  // one side only: keep the box annotation of the frame
    else
      continue;
    for (int i = 0; i < 4; ++i) rq[k * 4 + size_t(i)] = float(p.quat[size_t(i)]);
    for (int i = 0; i < 3; ++i) rt[k * 3 + size_t(i)] = float(p.translation[size_t(i)]);
  }
  copy_bytes(dev, pose_quats_.data() + row(frame) * 4, Device::cpu(), rq.data(),
             rq.size() * sizeof(float));
  copy_bytes(dev, pose_trans_.data() + row(frame) * 3, Device::cpu(), rt.data(),
             rt.size() * sizeof(float));
}

RigidNode::LocalGaussians RigidNode::local_gaussians(const FrameContext&) {
  return {model_.params(GaussianParam::means), model_.params(GaussianParam::quats)};
}

GaussianInputs RigidNode::placed_gaussians(const FrameContext& frame) {
  GS_CHECK(frame.frame >= 0 && frame.frame < instances_.frames,
           "rigid node '" + name() + "': frame " + std::to_string(frame.frame) + " out of range");
  frame_ = frame.frame;
  if (!instances_.trained_frame[size_t(frame_)]) interpolate_untrained_frame(frame_);
  InstancePosesT<float> poses;
  poses.count = instances_.count();
  poses.quats = pose_quats_.data() + row(frame_) * 4;
  poses.translations = pose_trans_.data() + row(frame_) * 3;
  poses.present = present_.data() + row(frame_);
  const size_t n = model_.count();
  local_ = local_gaussians(frame);
  rigid_transform_forward(model_.device(), n, model_.tags(), local_.means, local_.quats,
                          model_.params(GaussianParam::opacity), poses, means_world_.data(),
                          quats_world_.data(), opacity_world_.data());
  GaussianInputs in = model_.inputs(nullptr);
  in.means = means_world_.data();
  in.quats = quats_world_.data();
  in.opacity_logits = opacity_world_.data();
  return in;
}

void RigidNode::transform_backward(const FrameContext& frame, const NodeGradients& g) {
  InstancePosesT<float> poses;
  poses.count = instances_.count();
  poses.quats = pose_quats_.data() + row(frame.frame) * 4;
  poses.translations = pose_trans_.data() + row(frame.frame) * 3;
  poses.present = present_.data() + row(frame.frame);
  v_pose_quats_.zero();
  v_pose_trans_.zero();
  rigid_transform_backward(model_.device(), model_.count(), model_.tags(), local_.means,
                           local_.quats, poses, g.v_means, g.v_quats, v_means_local_.data(),
                           v_quats_local_.data(), v_pose_quats_.data(), v_pose_trans_.data());
  local_backward(frame, v_means_local_.data(), v_quats_local_.data());
  add_temporal_smoothness(frame);
}

void RigidNode::add_temporal_smoothness(const FrameContext& frame) {
  // The rendered frame f and d drawn from 1 … kTemporalRange (per step, from the seed, so a
  // resumed run draws the same); the loss and its gradient are in temporal_smoothness.h. The
  // instances present in all three frames are counted on the host copy of the flags, and the
  // kernel reads the device pose table, so nothing waits for the device here.
  const int f = frame.frame, F = instances_.frames;
  std::mt19937_64 rng(cfg_.train.seed * 1000003ull + uint64_t(frame.step));
  const int d = std::uniform_int_distribution<int>(1, kTemporalRange)(rng);
  if (f < d || f + d >= F) return;
  const size_t K = instances_.count();
  size_t valid = 0;
  for (size_t k = 0; k < K; ++k)
    valid += instances_.present[row(f - d) + k] && instances_.present[row(f) + k] &&
             instances_.present[row(f + d) + k];
  auto frame_row = [&](int g) {
    return TranslationRow{pose_trans_.data() + row(g) * 3, present_.data() + row(g)};
  };
  add_translation_smoothness_gradient(model_.device(), K, frame_row(f - d), frame_row(f),
                                      frame_row(f + d), valid, kTemporalWeight,
                                      v_pose_trans_.data());
}

void RigidNode::optimizer_step(int step, const NodeGradients& g) {
  GaussianNode::optimizer_step(step, g);
  // The poses of the frame just rendered (the rows of other frames have no gradient).
  AdamSettings a;
  a.zero_grad = false;
  const int iters = cfg_.train.iterations;
  const size_t K = instances_.count();
  ParamGroup pq;
  pq.name = "instance_rotations";
  pq.params = pose_quats_.data() + row(frame_) * 4;
  pq.grads = v_pose_quats_.data();
  pq.m = quats_m_.data() + row(frame_) * 4;
  pq.v = quats_v_.data() + row(frame_) * 4;
  pq.count = K * 4;
  pq.lr = exponential_lr(step, kLrRotation, kLrRotationFinal, iters);
  adam_step(model_.device(), pq, step, a);
  ParamGroup pt;
  pt.name = "instance_translations";
  pt.params = pose_trans_.data() + row(frame_) * 3;
  pt.grads = v_pose_trans_.data();
  pt.m = trans_m_.data() + row(frame_) * 3;
  pt.v = trans_v_.data() + row(frame_) * 3;
  pt.count = K * 3;
  pt.lr = exponential_lr(step, kLrTranslation, kLrTranslationFinal, iters);
  adam_step(model_.device(), pt, step, a);
}

DensifyResult RigidNode::densify(const DensifySettings& s, std::mt19937_64& rng) {
  DensifyResult r = GaussianNode::densify(s, rng);
  // Gaussians that left their box belong to no vehicle: cull them (and any whose tag names no
  // instance).
  const size_t culled = prune_where(
      model_,
      [&, cull_box = culls_outside_box()](const ModelHostArrays& a, size_t i) {
        const int32_t k = a.tags[i];
        if (k < 0 || size_t(k) >= instances_.count()) return true;
        if (!cull_box) return false;
        const float* m = a.params[int(GaussianParam::means)] + 3 * i;
        for (int j = 0; j < 3; ++j)
          if (std::abs(m[j]) > 0.5f * kBoxCullMargin * instances_.box_size[size_t(k)][size_t(j)])
            return true;
        return false;
      },
      s.min_keep);
  r.pruned += culled;
  r.count_after = model_.count();
  return r;
}

size_t RigidNode::allocated_bytes() const {
  return GaussianNode::allocated_bytes() + pose_quats_.bytes() + pose_trans_.bytes() +
         quats_m_.bytes() + quats_v_.bytes() + trans_m_.bytes() + trans_v_.bytes() +
         present_.bytes() + means_world_.bytes() + quats_world_.bytes() + opacity_world_.bytes() +
         v_means_local_.bytes() + v_quats_local_.bytes() + v_pose_quats_.bytes() +
         v_pose_trans_.bytes();
}

std::vector<NodeTensor> RigidNode::checkpoint_tensors() {
  const std::string p = "rigid." + name() + ".";
  return {{p + "pose_quats", &pose_quats_}, {p + "pose_trans", &pose_trans_},
          {p + "quats_m", &quats_m_},       {p + "quats_v", &quats_v_},
          {p + "trans_m", &trans_m_},       {p + "trans_v", &trans_v_}};
}

nlohmann::ordered_json RigidNode::metrics(int step) const {
  nlohmann::ordered_json j = GaussianNode::metrics(step);
  j["instances"] = instances_.count();
  return j;
}

void RigidNode::pose(int frame, size_t k, float quat[4], float translation[3]) const {
  const Device& dev = model_.device();
  copy_bytes(Device::cpu(), quat, dev, pose_quats_.data() + (row(frame) + k) * 4, 4 * sizeof(float));
  copy_bytes(Device::cpu(), translation, dev, pose_trans_.data() + (row(frame) + k) * 3,
             3 * sizeof(float));
}

std::vector<NamedCloud> RigidNode::export_clouds(int step) {
  const GaussianCloud all = model_.to_cloud();
  const std::vector<int32_t> tags = model_.tags_to_host();
  std::vector<NamedCloud> out;
  // Canonical: one cloud per instance, in its box frame.
  for (size_t k = 0; k < instances_.count(); ++k) {
    NamedCloud c;
    c.cloud.sh_degree = all.sh_degree;
    for (size_t i = 0; i < tags.size(); ++i)
      if (tags[i] == int32_t(k)) c.cloud.append(all, i);
    char suffix[48];
    std::snprintf(suffix, sizeof(suffix), "instance_%03d", instances_.ids[k]);
    c.suffix = suffix;
    out.push_back(std::move(c));
  }
  // In the world at the first frame (time 0): the instances present there, as trained by `step`.
  FrameContext f;
  f.step = step;
  f.frame = 0;
  placed_gaussians(f);
  GaussianCloud world = all;
  const size_t n = model_.count();
  world.means = host_rows(model_.device(), means_world_.data(), n * 3);
  world.quats = host_rows(model_.device(), quats_world_.data(), n * 4);
  const std::vector<float> op = host_rows(model_.device(), opacity_world_.data(), n);
  NamedCloud w;
  w.cloud.sh_degree = all.sh_degree;
  for (size_t i = 0; i < n; ++i)
    if (op[i] > kAbsentOpacityLogit) w.cloud.append(world, i);
  w.suffix = "world_frame000";
  w.description = "vehicles in the world at frame 0";
  out.push_back(std::move(w));
  return out;
}

}  // namespace gs
