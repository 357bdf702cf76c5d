// OmniRe's deformable node, built as the trainer will build it (NodeSetup + RigidInstances), next
// to a RigidNode built from the same setup and Gaussians: the same placement before the field
// switches on and (zero-initialised heads) right after; then training: the MLP, the quaternions
// and the embeddings of the instances present in the frame move, the detached canonical means,
// absent instances and instances without Gaussians do not; drivestudio's position rate; no
// culling outside the box; the checkpointed network and embeddings; the memory it reports.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "core/memory_accounting.h"
#include "deform/rigid_transform.h"
#include "formats/checkpoint.h"
#include "optim/adam.h"
#include "scene/deformable_instance_node.h"
#include "scene/rigid_node.h"
#include "tests/scene/node_test_util.h"
#include "tests/test_support.h"

using namespace gs;
using namespace gs::test;

namespace {

constexpr int kFrames = 3;
constexpr int kWarmup = 10;           // deform.warmup_steps below
constexpr size_t kInstances = 3;      // instance 2 has no Gaussians
constexpr size_t kPerInstance[kInstances] = {6, 4, 0};
constexpr size_t kGaussians = 10;
constexpr size_t kChunk = 4;          // < kGaussians: the node's field recomputes chunks
constexpr double kSceneExtent = 5;    // the rigid node's position-rate scale

std::array<float, 16> box_pose(int f, size_t k) {
  const double a = 0.3 * f + 0.7 * double(k);
  const double c = std::cos(a), s = std::sin(a);
  return {float(c), float(-s), 0, float(2.0 * double(k) - 2), float(s), float(c), 0, 0.5f, 0, 0,
          1,        float(8 + 0.5 * f), 0, 0, 0, 1};
}

// Three non-rigid movers over three frames; mover 1 is absent from frame 0.
RigidInstances make_instances() {
  RigidInstances ri;
  ri.frames = kFrames;
  ri.ids = {3, 5, 9};
  ri.box_size = {{1.8f, 0.6f, 1.7f}, {0.8f, 0.6f, 1.8f}, {2.f, 1.f, 1.5f}};
  ri.trained_frame = {1, 1, 1};
  for (int f = 0; f < kFrames; ++f)
    for (size_t k = 0; k < kInstances; ++k) {
      ri.present.push_back(k == 1 && f == 0 ? 0 : 1);
      ri.box_to_world.push_back(box_pose(f, k));
    }
  return ri;
}

// The placed Gaussians, on the host.
struct Placed {
  std::vector<float> means, quats, opacity, log_scales;
};

struct Fixture {
  Config cfg = parse_config(
      "scene: omnire\n"
      "train:\n"
      "  iterations: 100\n"
      "deform:\n"
      "  depth: 2\n"
      "  width: 16\n"
      "  skip_layer: 0\n"
      "  position_frequencies: 4\n"
      "  time_frequencies: 3\n"
      "  warmup_steps: 10\n"
      "  lr: 0.0016\n"
      "nodes:\n"
      "  background:\n"
      "    kind: background\n"
      "  movers:\n"
      "    kind: deformable\n"
      "    instances: 3\n",
      "inline.yaml");
  RigidInstances instances = make_instances();
  std::unique_ptr<DeformableInstanceNode> node;
  std::unique_ptr<RigidNode> rigid;  // the same Gaussians as a rigid node
  std::vector<int32_t> tags;
  GaussianCloud local;
  Camera camera = camera_at_origin();

  Fixture() {
    const NodeConfig* nc = cfg.find_node("movers");
    REQUIRE(nc != nullptr);
    NodeSetup setup = node_setup(cfg, *nc, 40, 0);
    setup.scene_extent = kSceneExtent;
    setup.instances = &instances;
    setup.mlp_chunk = kChunk;
    node = std::make_unique<DeformableInstanceNode>(setup);
    rigid = std::make_unique<RigidNode>(setup);
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(-0.4f, 0.4f);
    local.sh_degree = 0;
    for (size_t k = 0; k < kInstances; ++k)
      for (size_t i = 0; i < kPerInstance[k]; ++i) {
        for (size_t j = 0; j < 3; ++j) local.means.push_back(u(rng) * instances.box_size[k][j]);
        for (int j = 0; j < 3; ++j) local.log_scales.push_back(-5.f);
        const std::array<float, 4> q = {1.f + u(rng), u(rng), u(rng), u(rng)};
        local.quats.insert(local.quats.end(), q.begin(), q.end());
        local.opacity_logits.push_back(1.f + u(rng));
        local.sh.insert(local.sh.end(), {0.1f * float(tags.size()), 0.f, 0.f});
        tags.push_back(int32_t(k));
      }
    REQUIRE(tags.size() == kGaussians);
    node->model().load_cloud(local, tags);
    rigid->model().load_cloud(local, tags);
  }

  FrameContext frame(int f, int step) const {
    FrameContext c;
    c.step = step;
    c.frame = f;
    c.time = 0.25f * float(f);
    c.camera = &camera;
    c.active_sh_degree = 0;
    return c;
  }
  Placed place(SceneNode& n, int f, int step) {
    std::vector<float> colors(n.count() * 3);
    const GaussianInputs in = n.place(frame(f, step), colors.data());
    Placed p;
    p.means.assign(in.means, in.means + in.count * 3);
    p.quats.assign(in.quats, in.quats + in.count * 4);
    p.opacity.assign(in.opacity_logits, in.opacity_logits + in.count);
    p.log_scales.assign(in.log_scales, in.log_scales + in.count * 3);
    return p;
  }
  // One training step on frame f: every placed mean pulled along (0.3, -0.2, 0.5), random
  // quaternion gradients, nothing else.
  void step(SceneNode& n, int f, int step) {
    place(n, f, step);
    const size_t count = n.count();
    HostGradients host(count);
    const NodeGradients g = host.synthetic().view();
    n.backward(frame(f, step), g);
    n.optimizer_step(step, g);
  }
  std::vector<float> stored(GaussianParam p, size_t floats) const {
    const float* d = node->model().params(p);
    return std::vector<float>(d, d + floats);
  }
};

// The rotation of a (w, x, y, z) quaternion, normalised first (row-major).
std::array<double, 9> rotation(const float* q) {
  const double n = std::sqrt(double(q[0]) * q[0] + double(q[1]) * q[1] + double(q[2]) * q[2] +
                             double(q[3]) * q[3]);
  const double w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
  return {1 - 2 * (y * y + z * z), 2 * (x * y - w * z),     2 * (x * z + w * y),
          2 * (x * y + w * z),     1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
          2 * (x * z - w * y),     2 * (y * z + w * x),     1 - 2 * (x * x + y * y)};
}

std::vector<float> row(const std::vector<float>& v, size_t r, size_t width) {
  return std::vector<float>(v.begin() + long(r * width), v.begin() + long((r + 1) * width));
}

}  // namespace

TEST_CASE("deformable instance node: before the field switches on it is the rigid node",
          "[scene][instances]") {
  Fixture s;
  CHECK(s.node->kind() == NodeKind::deformable);
  CHECK_FALSE(s.node->network_status(kWarmup).active);
  CHECK(s.node->network_status(kWarmup).present);
  for (int f : {0, 1}) {
    INFO("frame " << f);
    const Placed d = s.place(*s.node, f, kWarmup), r = s.place(*s.rigid, f, kWarmup);
    CHECK(d.means == r.means);
    CHECK(d.quats == r.quats);
    CHECK(d.opacity == r.opacity);  // frame 0: mover 1 culled by its opacity in both
    CHECK(d.log_scales == s.local.log_scales);
  }
  // And so is a training step (with drivestudio's position rate, below, aside): the poses.
  s.step(*s.node, 1, 1);
  s.step(*s.rigid, 1, 1);
  for (size_t k = 0; k < kInstances; ++k) {
    float qd[4], td[3], qr[4], tr[3];
    s.node->pose(1, k, qd, td);
    s.rigid->pose(1, k, qr, tr);
    for (size_t i = 0; i < 3; ++i) CHECK(td[i] == tr[i]);
    for (size_t i = 0; i < 4; ++i) CHECK(qd[i] == qr[i]);
  }
}

TEST_CASE("deformable instance node: positions train at drivestudio's rate, × 2, not × extent",
          "[scene][instances]") {
  Fixture s;
  s.step(*s.node, 1, 1);
  s.step(*s.rigid, 1, 1);
  const float* md = s.node->model().params(GaussianParam::means);
  const float* mr = s.rigid->model().params(GaussianParam::means);
  const double lr = exponential_lr(1, s.cfg.train.lr_position_init, s.cfg.train.lr_position_final,
                                   s.cfg.train.iterations);
  for (size_t i = 0; i < kGaussians * 3; ++i) {
    INFO("mean value " << i);
    const double moved_d = double(md[i]) - s.local.means[i], moved_r = double(mr[i]) - s.local.means[i];
    // Adam's first step is the rate against the gradient's sign.
    CHECK(std::abs(moved_r) == Approx(kSceneExtent * lr).epsilon(1e-2));
    CHECK(std::abs(moved_d) == Approx(2 * lr).epsilon(1e-2));
  }
}

TEST_CASE("deformable instance node: switched on with zero heads it places as the rigid node",
          "[scene][instances]") {
  Fixture s;
  const int on = kWarmup + 1;
  CHECK(s.node->network_status(on).active);
  for (int f : {0, 2}) {
    INFO("frame " << f);
    const Placed d = s.place(*s.node, f, on), r = s.place(*s.rigid, f, on);
    // The field ran (its deltas are the zero heads' output) and moved nothing.
    const float* deltas = s.node->field().deltas();
    CHECK(std::all_of(deltas, deltas + kGaussians * 7, [](float v) { return v == 0.f; }));
    CHECK(d.means == r.means);  // x + 0
    CHECK(d.opacity == r.opacity);
    CHECK(d.log_scales == s.local.log_scales);
    // q/|q| + 0: the rigid node's rotation, at unit norm.
    for (size_t i = 0; i < kGaussians; ++i) {
      const auto a = rotation(&d.quats[4 * i]), b = rotation(&r.quats[4 * i]);
      for (size_t e = 0; e < 9; ++e) CHECK(a[e] == Approx(b[e]).margin(1e-6));
    }
  }
}

TEST_CASE(
    "deformable instance node: training moves the network, the rotations and the embeddings "
    "of present instances only",
    "[scene][instances]") {
  Fixture s;
  const std::vector<float> emb0 = s.node->embeddings();
  REQUIRE(emb0.size() == kInstances * 16);
  // drivestudio's torch.rand: U(0, 1).
  CHECK(*std::min_element(emb0.begin(), emb0.end()) >= 0.f);
  CHECK(*std::max_element(emb0.begin(), emb0.end()) < 1.f);
  CHECK(*std::max_element(emb0.begin(), emb0.end()) > 0.5f);
  const std::vector<float> mlp0 = s.node->field().mlp().params_to_host();
  const std::vector<float> quats0 = s.stored(GaussianParam::quats, kGaussians * 4);

  // Frame 0 (mover 1 absent), first step after switch-on: the zero heads learn; no gradient
  // reaches the layers behind them yet, so the embeddings keep their values.
  s.step(*s.node, 0, kWarmup + 1);
  CHECK(s.node->field().mlp().params_to_host() != mlp0);
  CHECK(s.node->embeddings() == emb0);
  // The canonical means are detached; the rotations train through q/|q| + δq, except those of
  // the absent mover.
  CHECK(s.stored(GaussianParam::means, kGaussians * 3) == s.local.means);
  const std::vector<float> quats1 = s.stored(GaussianParam::quats, kGaussians * 4);
  for (size_t i = 0; i < kGaussians; ++i) {
    INFO("Gaussian " << i << " of instance " << s.tags[i]);
    if (s.tags[i] == 1)
      CHECK(row(quats1, i, 4) == row(quats0, i, 4));
    else
      CHECK(row(quats1, i, 4) != row(quats0, i, 4));
  }

  // Second step: the embedding of mover 0 (present, with Gaussians) trains; mover 1 (absent
  // from frame 0) and mover 2 (no Gaussians) contribute nothing and keep theirs.
  s.step(*s.node, 0, kWarmup + 2);
  const std::vector<float> emb2 = s.node->embeddings();
  CHECK(row(emb2, 0, 16) != row(emb0, 0, 16));
  CHECK(row(emb2, 1, 16) == row(emb0, 1, 16));
  CHECK(row(emb2, 2, 16) == row(emb0, 2, 16));
  CHECK(s.stored(GaussianParam::means, kGaussians * 3) == s.local.means);

  // The field now deforms: placed means leave the rigid placement (same stored means).
  const Placed d = s.place(*s.node, 1, kWarmup + 2), r = s.place(*s.rigid, 1, kWarmup + 2);
  double moved = 0;
  for (size_t i = 0; i < kGaussians * 3; ++i) moved = std::max(moved, double(std::abs(d.means[i] - r.means[i])));
  CHECK(moved > 1e-4);
  CHECK(s.node->network_status(kWarmup + 2).recomputed_chunks == 3);  // ⌈10 / 4⌉ in the backward
}

TEST_CASE("deformable instance node: the canonical means stop at switch-on, momentum included",
          "[scene][instances]") {
  Fixture s;
  s.step(*s.node, 1, kWarmup - 1);
  s.step(*s.node, 1, kWarmup);  // the last rigid step: the means move, and have momentum
  const std::vector<float> at_switch = s.stored(GaussianParam::means, kGaussians * 3);
  CHECK(at_switch != s.local.means);
  for (int step = kWarmup + 1; step <= kWarmup + 3; ++step) s.step(*s.node, 1, step);
  CHECK(s.stored(GaussianParam::means, kGaussians * 3) == at_switch);
}

TEST_CASE("deformable instance node: Gaussians outside their box are not culled",
          "[scene][instances][densify]") {
  Fixture s;
  for (SceneNode* n : {static_cast<SceneNode*>(s.node.get()), static_cast<SceneNode*>(s.rigid.get())})
    n->model().with_host_arrays(
        [](ModelHostArrays& a) { a.params[int(GaussianParam::means)][0] = 3.f; },  // box: 1.8 m
        true);
  std::mt19937_64 rng(1);
  DensifySettings settings;
  CHECK(s.rigid->densify(settings, rng).pruned == 1);
  CHECK(s.node->densify(settings, rng).pruned == 0);
  CHECK(s.node->count() == kGaussians);
}

TEST_CASE("deformable instance node: network, embeddings and their Adam state survive a checkpoint",
          "[scene][instances][checkpoint]") {
  TempDir dir("deformable_instance_ckpt");
  const std::string path = dir / "movers.ckpt";
  auto tensors = [](SceneNode& n) {
    std::vector<CheckpointTensor> t;
    for (const NodeTensor& nt : n.checkpoint_tensors()) t.push_back({nt.name, nt.buffer});
    return t;
  };
  Fixture trained;
  const std::vector<NodeTensor> names = trained.node->checkpoint_tensors();
  REQUIRE(names.size() == 12);  // 6 of the rigid node's poses + 6 of the network
  CHECK(names[6].name == "deform.movers.mlp.params");
  CHECK(names[9].name == "deform.movers.embeddings");
  for (int step = kWarmup + 1; step <= kWarmup + 3; ++step) trained.step(*trained.node, 2, step);
  save_checkpoint(path, kWarmup + 3, {&trained.node->model()}, {}, tensors(*trained.node));

  Fixture resumed;
  CHECK(resumed.node->embeddings() != trained.node->embeddings());
  load_checkpoint(path, {&resumed.node->model()}, tensors(*resumed.node));
  CHECK(resumed.node->embeddings() == trained.node->embeddings());
  CHECK(resumed.node->field().mlp().params_to_host() == trained.node->field().mlp().params_to_host());
  // The next step (Adam moments of the MLP and the embeddings included) is the same on both.
  trained.step(*trained.node, 1, kWarmup + 4);
  resumed.step(*resumed.node, 1, kWarmup + 4);
  CHECK(resumed.node->embeddings() == trained.node->embeddings());
  CHECK(resumed.place(*resumed.node, 1, kWarmup + 4).means ==
        trained.place(*trained.node, 1, kWarmup + 4).means);
}

TEST_CASE("deformable instance node: memory, metrics and network status", "[scene][instances]") {
  const MemoryAccountant& acc = MemoryAccountant::of(DeviceKind::CPU);
  const size_t before = acc.current_total();
  Fixture s;  // two nodes: the deformable one and the rigid one
  CHECK(acc.current_total() - before ==
        s.node->allocated_bytes() + s.rigid->allocated_bytes());
  const DeformationField<float>& f = s.node->field();
  CHECK(s.node->allocated_bytes() > s.rigid->allocated_bytes() + f.bytes());
  CHECK(f.config().input_dim() == 3 + 24 + 1 + 6 + 16);
  CHECK(f.mlp().output_dim() == 7);
  CHECK(f.chunk_rows() == kChunk);
  const NodeNetworkStatus st = s.node->network_status(kWarmup + 1);
  CHECK(st.present);
  CHECK(st.active);
  CHECK(st.chunk_rows == kChunk);
  CHECK(st.activation_bytes == kChunk * DeformationField<float>::activation_bytes_per_row(f.config()));
  CHECK(st.per_gaussian_bytes == double(40 * DeformationField<float>::per_gaussian_bytes_for(f.config())));
  const nlohmann::ordered_json m = s.node->metrics(kWarmup + 1);
  CHECK(m["instances"] == kInstances);
  CHECK(m["deform"]["active"] == true);
  CHECK(m["deform"]["embedding_dim"] == 16);
  CHECK(m["deform"]["chunk_gaussians"] == kChunk);
}

TEST_CASE("deformable instance node: the out-of-bound loss pulls a Gaussian back into its box",
          "[scene][instances]") {
  // Gaussian 0 of mover 0 at x = 3 m (its box is 1.8 m long): with no image gradient, one step
  // before the switch-on moves it back along −x (Adam's first step: the rate against the sign)
  // and leaves every Gaussian inside its box where it was.
  Fixture s;
  s.node->model().with_host_arrays(
      [](ModelHostArrays& a) { a.params[int(GaussianParam::means)][0] = 3.f; }, true);
  const std::vector<float> before = s.stored(GaussianParam::means, kGaussians * 3);
  s.place(*s.node, 1, 1);
  const size_t n = s.node->count();
  HostGradients host(n);  // no image gradient
  const NodeGradients g = host.view();
  s.node->backward(s.frame(1, 1), g);
  s.node->optimizer_step(1, g);
  const std::vector<float> after = s.stored(GaussianParam::means, kGaussians * 3);
  CHECK(after[0] < before[0]);
  CHECK(before[0] - after[0] < 1e-3f);  // one Adam step
  for (size_t i = 1; i < after.size(); ++i) {
    INFO("coordinate " << i);
    CHECK(after[i] == before[i]);
  }
}
