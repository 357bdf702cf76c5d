// The skinned-human node (see skeleton_node.h).
#include "scene/skeleton_node.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/errors.h"
#include "core/logging.h"
#include "core/quat_math.h"
#include "deform/rigid_transform.h"
#include "deform/skinning.h"
#include "optim/adam.h"
#include "rasterizer/sh.h"
#include "scene/init_gaussians.h"
#include "scene/knn_smoothness.h"
#include "scene/sharp_shape.h"

namespace gs {

namespace {

// drivestudio's SMPLNodes (configs/omnire.yaml): pose rates (ins_rotation, ins_translation,
// smpl_rotation), Gaussian rates (xyz 1.6e-4 → 1.6e-6 × scale_factor 3 instead of the scene
// radius: humans live in metres, not scene units; rotation 5e-3, sh_dc 5e-3, sh_rest 2.5e-4).
constexpr double kLrRootRotation = 1e-5, kLrRootRotationFinal = 5e-6;
constexpr double kLrTranslation = 5e-4, kLrTranslationFinal = 1e-4;
constexpr double kLrJoints = 5e-5, kLrJointsFinal = 1e-5;
constexpr double kPositionScale = 3.0;
constexpr double kLrRotation = 5e-3, kLrShDc = 5e-3, kLrShRest = 2.5e-4;
// The skinning-weight correction (drivestudio's w_dc_vox: 1e-4 → 1e-5, from step 10000).
constexpr double kLrSkinWeights = 1e-4, kLrSkinWeightsFinal = 1e-5;
constexpr int kSkinWeightsFrom = 10000;
constexpr float kInitialOpacity = 0.99f;
constexpr double kSmoothnessWeight = 1e-3;  // each attribute (OmniRe's knn_reg)
constexpr double kMaxScaleSquareWeight = 0.05;  // OmniRe's max_s_square_reg of SMPLNodes
constexpr double kTemporalWeight = 0.01;    // translation smoothness between consecutive frames
constexpr int kSmoothnessNeighbours = 3;    // drivestudio's knn_neighbors

const SkeletonHumans& checked(const SkeletonHumans* h, const std::string& node) {
  if (h == nullptr || h->count() == 0)
    throw ConfigError("skeleton node '" + node + "' has no humans with poses in the data",
                      "skinned humans need humanpose/poses.json in the street scene; remove "
                      "the node or add poses");
  GS_CHECK(h->present.size() == size_t(h->frames) * h->count() &&
               h->poses.size() == h->present.size() * size_t(kPoseFloats) &&
               h->trained_frame.size() == size_t(h->frames) && h->body.size() > 0,
           "skeleton humans: one pose and flag per (frame, human), a non-empty template");
  return *h;
}

}  // namespace

SkeletonNode::SkeletonNode(const NodeSetup& s)
    : GaussianNode(s, true), humans_(checked(s.humans, s.node->name)) {
  const Device& dev = s.device;
  const Device host = Device::cpu();
  const size_t H = humans_.count();
  poses_ = Buffer<float>::from_host(host, humans_.poses, MemCategory::params);
  poses_m_ = Buffer<float>::zeros(host, humans_.poses.size(), MemCategory::optimizer);
  poses_v_ = Buffer<float>::zeros(host, humans_.poses.size(), MemCategory::optimizer);
  v_poses_ = Buffer<float>::zeros(host, H * kPoseFloats, MemCategory::grads);
  joint_transforms_ = Buffer<float>::zeros(dev, H * kSkeletonJoints * 12, MemCategory::raster);
  joint_quats_ = Buffer<float>::zeros(dev, H * kSkeletonJoints * 4, MemCategory::raster);
  v_joints_ = Buffer<float>::zeros(dev, H * kSkeletonJoints * kJointGradStride, MemCategory::grads);
  frame_present_ = Buffer<uint8_t>::zeros(dev, H, MemCategory::raster);
  const size_t cap = s.capacity;
  skin_joints_ = Buffer<int32_t>::zeros(dev, cap * kSkinInfluences, MemCategory::params);
  weight_logits_ = Buffer<float>::zeros(dev, cap * kSkinInfluences, MemCategory::params);
  logits_m_ = Buffer<float>::zeros(dev, cap * kSkinInfluences, MemCategory::optimizer);
  logits_v_ = Buffer<float>::zeros(dev, cap * kSkinInfluences, MemCategory::optimizer);
  v_logits_ = Buffer<float>::zeros(dev, cap * kSkinInfluences, MemCategory::grads);
  means_world_ = Buffer<float>(dev, cap * 3, MemCategory::raster);
  quats_world_ = Buffer<float>(dev, cap * 4, MemCategory::raster);
  opacity_world_ = Buffer<float>(dev, cap, MemCategory::raster);
  v_means_local_ = Buffer<float>::zeros(dev, cap * 3, MemCategory::grads);
  v_quats_local_ = Buffer<float>::zeros(dev, cap * 4, MemCategory::grads);
  load_template_gaussians(s);
  build_neighbours();
  log_info("skeleton node '", name(), "': ", H, " humans over ", humans_.frames, " frames, ",
           model_.count(), " Gaussians on the ", humans_.body.source, " template (",
           humans_.body.size(), " vertices), SH ", model_.sh_degree());
}

void SkeletonNode::load_template_gaussians(const NodeSetup& s) {
  const size_t H = humans_.count();
  const BodyTemplate& body = humans_.body;
  const size_t per_human = std::min(body.size(), std::max<size_t>(s.capacity / H, 1));
  GaussianCloud all;
  all.sh_degree = model_.sh_degree();
  std::vector<int32_t> tags, joints;
  std::vector<float> logits;
  for (size_t h = 0; h < H; ++h) {
    std::vector<float> pts, cols;
    std::vector<size_t> chosen;
    for (size_t j = 0; j < per_human; ++j) chosen.push_back(j * body.size() / per_human);
    for (size_t v : chosen) {
      pts.insert(pts.end(), body.vertices[v].begin(), body.vertices[v].end());
      for (int c = 0; c < 3; ++c)
        cols.push_back(humans_.init_colors.empty()
                           ? 0.5f
                           : humans_.init_colors[(h * body.size() + v) * 3 + size_t(c)]);
    }
    GaussianCloud c = gaussians_from_points(pts, cols, all.sh_degree, chosen.size(),
                                            uint64_t(cfg_.train.seed) + h);
    for (float& o : c.opacity_logits) o = rmath::logit(kInitialOpacity);
    all.append(c);
    tags.insert(tags.end(), chosen.size(), int32_t(h));
    for (size_t v : chosen)
      for (int k = 0; k < kSkinInfluences; ++k) {
        joints.push_back(body.skin_joints[v][size_t(k)]);
        logits.push_back(std::log(std::max(body.skin_weights[v][size_t(k)], 1e-6f)));
      }
  }
  model_.load_cloud(all, tags);
  const Device& dev = model_.device();
  copy_bytes(dev, skin_joints_.data(), Device::cpu(), joints.data(), joints.size() * 4);
  copy_bytes(dev, weight_logits_.data(), Device::cpu(), logits.data(), logits.size() * 4);
}

void SkeletonNode::build_neighbours() {
  const GaussianCloud c = model_.to_cloud();
  std::vector<int32_t> offsets, indices;
  build_knn_graph(c.means, model_.tags_to_host(), kSmoothnessNeighbours, offsets, indices);
  edges_ = indices.size() / 2;
  const Device& dev = model_.device();
  neighbour_offsets_ = Buffer<int32_t>::from_host(dev, offsets, MemCategory::params);
  neighbours_ = Buffer<int32_t>::from_host(dev, indices.empty() ? std::vector<int32_t>{0} : indices,
                                           MemCategory::params);
}

void SkeletonNode::interpolate_untrained_frame(int frame) {
  const int F = humans_.frames;
  for (size_t h = 0; h < humans_.count(); ++h) {
    if (!humans_.present[size_t(frame) * humans_.count() + h]) continue;
    auto usable = [&](int f) {
      return f >= 0 && f < F && humans_.trained_frame[size_t(f)] &&
             humans_.present[size_t(f) * humans_.count() + h];
    };
    int prev = frame - 1, next = frame + 1;
    while (prev >= 0 && !usable(prev)) --prev;
    while (next < F && !usable(next)) ++next;
    if (prev < 0 || next >= F) continue;  // one side only: keep the given pose
    const double s = double(frame - prev) / double(next - prev);
    const float* a = poses_.data() + row(prev, h);
    const float* b = poses_.data() + row(next, h);
    float* out = poses_.data() + row(frame, h);
    for (int j = 0; j < kSkeletonJoints; ++j) {
      std::array<double, 4> qa, qb;
      for (int c = 0; c < 4; ++c) qa[size_t(c)] = a[4 * j + c], qb[size_t(c)] = b[4 * j + c];
      const std::array<double, 4> q = slerp(qa, qb, s);
      for (int c = 0; c < 4; ++c) out[4 * j + c] = float(q[size_t(c)]);
    }
    for (int c = 0; c < 3; ++c) {
      const int k = kSkeletonJoints * 4 + c;
      out[k] = float((1 - s) * a[k] + s * b[k]);
    }
  }
}

void SkeletonNode::upload_joints(int frame) {
  const size_t H = humans_.count();
  std::vector<float> A(H * kSkeletonJoints * 12, 0.f), Q(H * kSkeletonJoints * 4, 0.f);
  std::vector<uint8_t> present(H, 0);
  double pose[kPoseFloats], a[kSkeletonJoints * 12], q[kSkeletonJoints * 4];
  for (size_t h = 0; h < H; ++h) {
    present[h] = humans_.present[size_t(frame) * H + h];
    if (!present[h]) continue;
    const float* p = poses_.data() + row(frame, h);
    for (int k = 0; k < kPoseFloats; ++k) pose[k] = p[k];
    pose_skeleton(humans_.body, pose, a, q);
    for (int k = 0; k < kSkeletonJoints * 12; ++k) A[h * kSkeletonJoints * 12 + size_t(k)] = float(a[k]);
    for (int k = 0; k < kSkeletonJoints * 4; ++k) Q[h * kSkeletonJoints * 4 + size_t(k)] = float(q[k]);
  }
  const Device& dev = model_.device();
  copy_bytes(dev, joint_transforms_.data(), Device::cpu(), A.data(), A.size() * sizeof(float));
  copy_bytes(dev, joint_quats_.data(), Device::cpu(), Q.data(), Q.size() * sizeof(float));
  copy_bytes(dev, frame_present_.data(), Device::cpu(), present.data(), present.size());
}

GaussianInputs SkeletonNode::placed_gaussians(const FrameContext& frame) {
  GS_CHECK(frame.frame >= 0 && frame.frame < humans_.frames,
           "skeleton node '" + name() + "': frame " + std::to_string(frame.frame) + " out of range");
  frame_ = frame.frame;
  if (!humans_.trained_frame[size_t(frame_)]) interpolate_untrained_frame(frame_);
  upload_joints(frame_);
  SkinPosesT<float> poses{humans_.count(), joint_transforms_.data(), joint_quats_.data(),
                          frame_present_.data()};
  SkinBindingT<float> binding{model_.tags(), skin_joints_.data(), weight_logits_.data()};
  skinning_forward(model_.device(), model_.count(), binding, model_.params(GaussianParam::means),
                   model_.params(GaussianParam::quats), model_.params(GaussianParam::opacity),
                   poses, means_world_.data(), quats_world_.data(), opacity_world_.data());
  GaussianInputs in = model_.inputs(nullptr);
  in.means = means_world_.data();
  in.quats = quats_world_.data();
  in.opacity_logits = opacity_world_.data();
  return in;
}

void SkeletonNode::transform_backward(const FrameContext& frame, const NodeGradients& g) {
  const size_t H = humans_.count();
  SkinPosesT<float> poses{H, joint_transforms_.data(), joint_quats_.data(), frame_present_.data()};
  SkinBindingT<float> binding{model_.tags(), skin_joints_.data(), weight_logits_.data()};
  v_joints_.zero();
  skinning_backward(model_.device(), model_.count(), binding, model_.params(GaussianParam::means),
                    model_.params(GaussianParam::quats), poses, g.v_means, g.v_quats,
                    v_means_local_.data(), v_quats_local_.data(), v_logits_.data(),
                    v_joints_.data());
  // Joint gradients → the frame's pose rows, through the kinematic chain (host, double).
  const std::vector<float> vj = v_joints_.to_host();
  std::fill(v_poses_.data(), v_poses_.data() + H * kPoseFloats, 0.f);
  double pose[kPoseFloats], va[kSkeletonJoints * 12], vq[kSkeletonJoints * 4], vp[kPoseFloats];
  for (size_t h = 0; h < H; ++h) {
    if (!humans_.present[size_t(frame.frame) * H + h]) continue;
    const float* p = poses_.data() + row(frame.frame, h);
    for (int k = 0; k < kPoseFloats; ++k) pose[k] = p[k];
    for (int j = 0; j < kSkeletonJoints; ++j) {
      const float* r = vj.data() + (h * kSkeletonJoints + size_t(j)) * kJointGradStride;
      for (int k = 0; k < 12; ++k) va[12 * j + k] = r[k];
      for (int k = 0; k < 4; ++k) vq[4 * j + k] = r[12 + k];
    }
    pose_skeleton_backward(humans_.body, pose, va, vq, vp);
    for (int k = 0; k < kPoseFloats; ++k) v_poses_.data()[h * kPoseFloats + size_t(k)] = float(vp[k]);
  }
  add_temporal_gradients(frame.frame);
  add_smoothness_gradients(g);
  add_max_scale_square_gradient(model_.device(), model_.count(),
                                model_.params(GaussianParam::log_scales), kMaxScaleSquareWeight,
                                g.v_log_scales);
}

void SkeletonNode::add_temporal_gradients(int f) {
  // L = w Σ_f |t_f − t_{f+1}|² (translations) over consecutive trained frames where the human
  // is present: ∂L/∂t_f = 2w Σ_{neighbour n} (t_f − t_n).
  const size_t H = humans_.count();
  for (size_t h = 0; h < H; ++h) {
    if (!humans_.present[size_t(f) * H + h]) continue;
    const float* own = poses_.data() + row(f, h);
    for (int n : {f - 1, f + 1}) {
      if (n < 0 || n >= humans_.frames || !humans_.trained_frame[size_t(n)] ||
          !humans_.present[size_t(n) * H + h])
        continue;
      const float* other = poses_.data() + row(n, h);
      for (int k = kSkeletonJoints * 4; k < kPoseFloats; ++k)
        v_poses_.data()[h * kPoseFloats + size_t(k)] += float(2 * kTemporalWeight * (own[k] - other[k]));
    }
  }
}

void SkeletonNode::add_smoothness_gradients(const NodeGradients& g) {
  if (edges_ == 0) return;
  const size_t n = model_.count();
  const Device& dev = model_.device();
  const double scale = 2 * kSmoothnessWeight / double(edges_);
  const int32_t* off = neighbour_offsets_.data();
  const int32_t* idx = neighbours_.data();
  const int sh_row = 3 * sh_coeff_count(model_.sh_degree());
  add_smoothness_gradient(dev, n, off, idx, model_.params(GaussianParam::quats), 4, 4, scale,
                          v_quats_local_.data(), 4);
  add_smoothness_gradient(dev, n, off, idx, model_.params(GaussianParam::log_scales), 3, 3, scale,
                          g.v_log_scales, 3);
  add_smoothness_gradient(dev, n, off, idx, model_.params(GaussianParam::opacity), 1, 1, scale,
                          g.v_opacity_logits, 1);
  add_smoothness_gradient(dev, n, off, idx, model_.params(GaussianParam::sh), sh_row, sh_row,
                          scale, v_sh_.data(), sh_row);
}

void SkeletonNode::optimizer_step(int step, const NodeGradients& g) {
  GaussianNode::optimizer_step(step, g);
  AdamSettings a;
  a.zero_grad = false;
  const int iters = cfg_.train.iterations;
  if (step > kSkinWeightsFrom) {
    ParamGroup pl;
    pl.name = "skin_weight_logits";
    pl.params = weight_logits_.data();
    pl.grads = v_logits_.data();
    pl.m = logits_m_.data();
    pl.v = logits_v_.data();
    pl.count = model_.count() * kSkinInfluences;
    pl.lr = exponential_lr(step, kLrSkinWeights, kLrSkinWeightsFinal, iters);
    adam_step(model_.device(), pl, step - kSkinWeightsFrom, a);
  }
  // The poses of the frame just rendered (other frames' rows have no gradient this step), one
  // group per rate: the root rotation, the translation, the joints. A human's row is the 24
  // quaternions then the translation, so each group is a strided set of ranges: step them per
  // human.
  for (size_t h = 0; h < humans_.count(); ++h) {
    const size_t r = row(frame_, h);
    float* grad = v_poses_.data() + h * kPoseFloats;
    auto pose_group = [&](const char* name, int begin, int count, double lr0, double lr1) {
      ParamGroup p;
      p.name = name;
      p.params = poses_.data() + r + size_t(begin);
      p.grads = grad + begin;
      p.m = poses_m_.data() + r + size_t(begin);
      p.v = poses_v_.data() + r + size_t(begin);
      p.count = size_t(count);
      p.lr = exponential_lr(step, lr0, lr1, iters);
      adam_step(Device::cpu(), p, step, a);
    };
    pose_group("human_root_rotation", 0, 4, kLrRootRotation, kLrRootRotationFinal);
    pose_group("human_joint_rotations", 4, (kSkeletonJoints - 1) * 4, kLrJoints, kLrJointsFinal);
    pose_group("human_translation", kSkeletonJoints * 4, 3, kLrTranslation, kLrTranslationFinal);
  }
}

GaussianLearningRates SkeletonNode::learning_rates(int step) const {
  GaussianLearningRates r = GaussianNode::learning_rates(step);
  const TrainConfig& t = cfg_.train;
  r.position = exponential_lr(step, t.lr_position_init * kPositionScale,
                              t.lr_position_final * kPositionScale, t.iterations);
  r.rotation = kLrRotation;
  r.sh_dc = kLrShDc;
  r.sh_rest = kLrShRest;
  return r;
}

DensifyResult SkeletonNode::densify(const DensifySettings&, std::mt19937_64&) {
  // Never densified or pruned: the template's Gaussians keep their binding and neighbours.
  DensifyResult r;
  r.count_before = r.count_after = model_.count();
  return r;
}

size_t SkeletonNode::allocated_bytes() const {
  size_t b = GaussianNode::allocated_bytes();
  for (const Buffer<float>* x : {&joint_transforms_, &joint_quats_, &v_joints_, &weight_logits_,
                                 &logits_m_, &logits_v_, &v_logits_, &means_world_, &quats_world_,
                                 &opacity_world_, &v_means_local_, &v_quats_local_})
    b += x->bytes();
  return b + skin_joints_.bytes() + frame_present_.bytes() + neighbour_offsets_.bytes() +
         neighbours_.bytes();
}

std::vector<NodeTensor> SkeletonNode::checkpoint_tensors() {
  const std::string p = "skeleton." + name() + ".";
  return {{p + "poses", &poses_},           {p + "poses_m", &poses_m_},
          {p + "poses_v", &poses_v_},       {p + "weight_logits", &weight_logits_},
          {p + "logits_m", &logits_m_},     {p + "logits_v", &logits_v_}};
}

nlohmann::ordered_json SkeletonNode::metrics(int step) const {
  nlohmann::ordered_json j = GaussianNode::metrics(step);
  j["humans"] = humans_.count();
  j["template"] = humans_.body.source;
  j["template_vertices"] = humans_.body.size();
  return j;
}

std::vector<NamedCloud> SkeletonNode::export_clouds(int) {
  // Canonical (all humans on the template, overlapping) and posed in the first frame.
  std::vector<NamedCloud> out;
  out.push_back({"", model_.to_cloud(), "humans on the body template (canonical)"});
  FrameContext f;
  f.frame = 0;
  placed_gaussians(f);
  GaussianCloud world = model_.to_cloud();
  const size_t n = model_.count();
  const std::vector<float> m = means_world_.to_host(n * 3), q = quats_world_.to_host(n * 4),
                           o = opacity_world_.to_host(n);
  world.means = m;
  world.quats = q;
  world.opacity_logits = o;
  GaussianCloud posed;
  posed.sh_degree = world.sh_degree;
  for (size_t i = 0; i < n; ++i)
    if (o[i] > kAbsentOpacityLogit) posed.append(world, i);
  out.push_back({"world_frame000", std::move(posed), "humans in the world at frame 0"});
  return out;
}

}  // namespace gs
