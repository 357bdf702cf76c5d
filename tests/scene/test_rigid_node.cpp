// The rigid node (OmniRe vehicles), built as the trainer builds it (NodeSetup + RigidInstances):
// placement by the box pose of the frame, culling of absent instances, slerped poses for
// untrained frames, pose refinement of the rendered frame only, densification that keeps tags
// and culls Gaussians that left their box, the exported clouds; and pose_from_matrix.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "deform/rigid_transform.h"
#include "formats/checkpoint.h"
#include "scene/rigid_node.h"
#include "tests/scene/node_test_util.h"
#include "tests/test_support.h"

using namespace gs;
using namespace gs::test;

namespace {

using Mat3 = std::array<double, 9>;  // row-major

Mat3 mul(const Mat3& a, const Mat3& b) {
  Mat3 c{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) c[3 * i + j] += a[3 * i + k] * b[3 * k + j];
  return c;
}

Mat3 rot_z(double a) {
  return {std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1};
}
Mat3 rot_x(double a) {
  return {1, 0, 0, 0, std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a)};
}

// Rotation of a (w, x, y, z) quaternion, normalised first.
template <class T>
Mat3 quat_to_matrix(const T* q) {
  const double n = std::sqrt(double(q[0]) * q[0] + double(q[1]) * q[1] + double(q[2]) * q[2] +
                             double(q[3]) * q[3]);
  const double w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
  return {1 - 2 * (y * y + z * z), 2 * (x * y - w * z),     2 * (x * z + w * y),
          2 * (x * y + w * z),     1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
          2 * (x * z - w * y),     2 * (y * z + w * x),     1 - 2 * (x * x + y * y)};
}

std::array<float, 16> rigid_matrix(const Mat3& r, const std::array<double, 3>& t) {
  std::array<float, 16> m{};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) m[size_t(4 * i + j)] = float(r[size_t(3 * i + j)]);
    m[size_t(4 * i + 3)] = float(t[size_t(i)]);
  }
  m[15] = 1;
  return m;
}

constexpr int kFrames = 5;
constexpr size_t kInstances = 2;

// The box pose of instance k in frame f: a yaw growing linearly with f (so the slerp halfway
// between two frames is the pose of the frame halfway), a fixed per-instance pitch, and a
// translation linear in f.
Mat3 box_rotation(int f, size_t k) {
  return mul(rot_z(0.3 * f + 0.5 * double(k)), rot_x(0.2 + 0.4 * double(k)));
}
std::array<double, 3> box_translation(int f, size_t k) {
  return {1.5 * f - 3, 2.0 * double(k) - 1, 8 + 0.5 * f};
}

// Two vehicles over five frames: frames 2 and 4 are not trained on (2 lies between the trained
// 1 and 3; 4 has a trained neighbour on one side only); vehicle 1 is absent from frames 0 and 4.
// The box annotation of frame 2 is deliberately wrong: the node must interpolate instead.
RigidInstances make_instances() {
  RigidInstances ri;
  ri.frames = kFrames;
  ri.ids = {7, 12};
  ri.box_size = {{4.f, 2.f, 1.5f}, {3.f, 2.f, 2.f}};
  ri.trained_frame = {1, 1, 0, 1, 0};
  for (int f = 0; f < kFrames; ++f)
    for (size_t k = 0; k < kInstances; ++k) {
      ri.present.push_back(k == 1 && (f == 0 || f == 4) ? 0 : 1);
      ri.box_to_world.push_back(f == 2 ? rigid_matrix(rot_z(2.0), {0, 0, 0})
                                       : rigid_matrix(box_rotation(f, k), box_translation(f, k)));
    }
  return ri;
}

// Gaussians of vehicle 0 (ids 1..6) and vehicle 1 (ids 7..10), inside their boxes, SH degree 0.
// Each Gaussian's id is in its DC red coefficient (every row move copies it).
constexpr size_t kPerInstance[kInstances] = {6, 4};

struct RigidFixture {
  Config cfg = parse_config(
      "scene: omnire\n"
      "nodes:\n"
      "  background:\n"
      "    kind: background\n"
      "  vehicles:\n"
      "    kind: rigid\n"
      "    instances: 2\n",
      "inline.yaml");
  RigidInstances instances = make_instances();
  std::unique_ptr<SceneNode> owner;
  RigidNode* node = nullptr;
  std::vector<int32_t> tags;  // as loaded
  GaussianCloud local;        // as loaded
  Camera camera = camera_at_origin();

  RigidFixture() {
    const NodeConfig* nc = cfg.find_node("vehicles");
    REQUIRE(nc != nullptr);
    NodeSetup setup = node_setup(cfg, *nc, 40, 0);
    setup.instances = &instances;
    owner = make_scene_node(setup);
    node = dynamic_cast<RigidNode*>(owner.get());
    REQUIRE(node != nullptr);
    REQUIRE(owner->model().tagged());

    // Like the trainer's load_initial_gaussians: per instance, concatenated and tagged.
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(-0.4f, 0.4f);
    local.sh_degree = 0;
    for (size_t k = 0; k < kInstances; ++k)
      for (size_t i = 0; i < kPerInstance[k]; ++i) {
        for (int j = 0; j < 3; ++j)
          local.means.push_back(u(rng) * instances.box_size[k][size_t(j)]);
        for (int j = 0; j < 3; ++j) local.log_scales.push_back(-5.f);  // clones, not splits
        const std::array<float, 4> q = {1.f + u(rng), u(rng), u(rng), u(rng)};
        local.quats.insert(local.quats.end(), q.begin(), q.end());
        local.opacity_logits.push_back(1.f + u(rng));
        local.sh.insert(local.sh.end(), {float(tags.size() + 1), 0.f, 0.f});
        tags.push_back(int32_t(k));
      }
    owner->model().load_cloud(local, tags);
  }

  FrameContext frame(int f) const {
    FrameContext c;
    c.step = 1;
    c.frame = f;
    c.camera = &camera;
    c.active_sh_degree = 0;
    return c;
  }
  GaussianInputs place(int f) {
    colors.resize(owner->count() * 3);
    return owner->place(frame(f), colors.data());
  }
  std::vector<float> colors;
};

// Checks R·μ + T and q_inst ⊗ q_local of every Gaussian against the expected pose per instance.
void check_placed(const GaussianInputs& in, const RigidFixture& s,
                  const std::array<Mat3, kInstances>& r,
                  const std::array<std::array<double, 3>, kInstances>& t) {
  REQUIRE(in.count == s.tags.size());
  for (size_t i = 0; i < in.count; ++i) {
    const size_t k = size_t(s.tags[i]);
    INFO("Gaussian " << i << " of instance " << k);
    for (int a = 0; a < 3; ++a) {
      double expect = t[k][size_t(a)];
      for (int b = 0; b < 3; ++b)
        expect += r[k][size_t(3 * a + b)] * s.local.means[3 * i + size_t(b)];
      CHECK(in.means[3 * i + size_t(a)] == Approx(expect).margin(1e-5));
    }
    const Mat3 world = quat_to_matrix(in.quats + 4 * i);
    const Mat3 expect = mul(r[k], quat_to_matrix(&s.local.quats[4 * i]));
    for (size_t e = 0; e < 9; ++e) CHECK(world[e] == Approx(expect[e]).margin(1e-5));
  }
}

struct Pose {
  std::array<float, 4> q;
  std::array<float, 3> t;
  bool operator==(const Pose& o) const { return q == o.q && t == o.t; }
};
Pose pose_of(const RigidNode& n, int f, size_t k) {
  Pose p;
  n.pose(f, k, p.q.data(), p.t.data());
  return p;
}

// One training step on frame f with a synthetic gradient: every placed mean pulled along
// (0.3, -0.2, 0.5), random quaternion gradients, nothing else.
void synthetic_step(RigidFixture& s, int f) {
  const FrameContext frame = s.frame(f);
  s.place(f);
  const size_t n = s.owner->count();
  HostGradients host(n);
  const NodeGradients g = host.synthetic().view();
  s.owner->backward(frame, g);
  s.owner->optimizer_step(1, g);
}

}  // namespace

TEST_CASE("rigid node: placed means are the box pose of the frame applied to the local ones",
          "[scene][rigid]") {
  RigidFixture s;
  CHECK(s.owner->kind() == NodeKind::rigid);
  for (int f : {1, 3}) {
    INFO("frame " << f);
    const GaussianInputs in = s.place(f);
    check_placed(in, s, {box_rotation(f, 0), box_rotation(f, 1)},
                 {box_translation(f, 0), box_translation(f, 1)});
    // Scales pass through; every instance is present, so opacities do too.
    CHECK(in.log_scales == s.owner->model().params(GaussianParam::log_scales));
    for (size_t i = 0; i < in.count; ++i) CHECK(in.opacity_logits[i] == s.local.opacity_logits[i]);
  }
}

TEST_CASE("rigid node: an absent instance's Gaussians are culled", "[scene][rigid]") {
  RigidFixture s;
  const GaussianInputs in = s.place(0);  // vehicle 1 is absent from frame 0
  for (size_t i = 0; i < in.count; ++i) {
    INFO("Gaussian " << i << " of instance " << s.tags[i]);
    if (s.tags[i] == 1)
      CHECK(in.opacity_logits[i] == kAbsentOpacityLogit);
    else
      CHECK(in.opacity_logits[i] == s.local.opacity_logits[i]);
    for (int a = 0; a < 3; ++a) CHECK(std::isfinite(in.means[3 * i + size_t(a)]));
  }
}

TEST_CASE("rigid node: an untrained frame takes the slerp of its trained neighbours",
          "[scene][rigid]") {
  RigidFixture s;
  // Frame 2 lies halfway between the trained frames 1 and 3: yaw and translation halfway, which
  // is the analytic pose of frame 2 (its wrong box annotation is not used).
  const GaussianInputs in = s.place(2);
  check_placed(in, s, {box_rotation(2, 0), box_rotation(2, 1)},
               {box_translation(2, 0), box_translation(2, 1)});
  for (size_t k = 0; k < kInstances; ++k) {
    const Pose p = pose_of(*s.node, 2, k);
    RigidPose a, b;
    float q[4], t[3];
    for (int f : {1, 3}) {
      pose_from_matrix(rigid_matrix(box_rotation(f, k), box_translation(f, k)), q, t);
      RigidPose& dst = f == 1 ? a : b;
      for (size_t i = 0; i < 4; ++i) dst.quat[i] = q[i];
      for (size_t i = 0; i < 3; ++i) dst.translation[i] = t[i];
    }
    const RigidPose mid = interpolate_pose(a, b, 0.5);
    for (size_t i = 0; i < 4; ++i) CHECK(p.q[i] == Approx(mid.quat[i]).margin(1e-6));
    for (size_t i = 0; i < 3; ++i) CHECK(p.t[i] == Approx(mid.translation[i]).margin(1e-6));
  }

  // Frame 4 has a trained frame on one side only: vehicle 0 keeps its box annotation.
  const GaussianInputs in4 = s.place(4);
  for (size_t i = 0; i < in4.count; ++i) {
    if (s.tags[i] != 0) continue;
    const Mat3 r = box_rotation(4, 0);
    const std::array<double, 3> t = box_translation(4, 0);
    for (int a = 0; a < 3; ++a) {
      double expect = t[size_t(a)];
      for (int b = 0; b < 3; ++b) expect += r[size_t(3 * a + b)] * s.local.means[3 * i + size_t(b)];
      CHECK(in4.means[3 * i + size_t(a)] == Approx(expect).margin(1e-5));
    }
  }
}

TEST_CASE("rigid node: an optimizer step moves the poses of the rendered frame only",
          "[scene][rigid]") {
  RigidFixture s;
  std::map<std::pair<int, size_t>, Pose> before;
  for (int f = 0; f < kFrames; ++f)
    for (size_t k = 0; k < kInstances; ++k) before[{f, k}] = pose_of(*s.node, f, k);

  // Frame 0 (vehicle 1 absent): a synthetic gradient on every placed Gaussian.
  synthetic_step(s, 0);

  // Vehicle 0 in frame 0 moved: Adam's first step is lr against the sign of the gradient
  // (drivestudio's translation rate 5e-4), and its rotation changed too.
  const Pose moved = pose_of(*s.node, 0, 0), was = before[{0, 0}];
  CHECK(moved.t[0] - was.t[0] == Approx(-5e-4).margin(2e-6));
  CHECK(moved.t[1] - was.t[1] == Approx(5e-4).margin(2e-6));
  CHECK(moved.t[2] - was.t[2] == Approx(-5e-4).margin(2e-6));
  CHECK_FALSE(moved.q == was.q);
  // Everything else kept its pose: the absent vehicle 1 in frame 0 and every other frame.
  for (int f = 0; f < kFrames; ++f)
    for (size_t k = 0; k < kInstances; ++k) {
      if (f == 0 && k == 0) continue;
      INFO("frame " << f << ", instance " << k);
      CHECK(pose_of(*s.node, f, k) == before[{f, k}]);
    }
  // The stored (box-local) means moved as well.
  const float* means = s.owner->model().params(GaussianParam::means);
  CHECK(means[0] != s.local.means[0]);
}

TEST_CASE("rigid node: the temporal smoothness pulls a translation to its neighbours' midpoint",
          "[scene][rigid]") {
  // The translations are linear in the frame (no pull) but for vehicle 0 in frame 0, raised by
  // 1 m in z. Frame 1 with neighbours 1 frame away (frames 0, 1, 2; vehicle 1 is absent from
  // frame 0, so only vehicle 0 counts): t0 + t2 − 2 t1 = +1 in z, so with no image gradient the
  // first Adam step moves t1.z up by the translation rate 5e-4 and nothing else. With
  // neighbours 2 frames away there is no frame −1: no pull at all.
  for (int want_d : {1, 2}) {
    RigidFixture s;
    Buffer<float>* trans = nullptr;
    for (const NodeTensor& t : s.owner->checkpoint_tensors())
      if (t.name.find("pose_trans") != std::string::npos) trans = t.buffer;
    REQUIRE(trans != nullptr);
    trans->data()[0 * 3 * kInstances + 2] += 1.f;  // frame 0, vehicle 0, z
    // The node draws the neighbour distance per step from (seed 0, step): find a step that
    // draws want_d (the same draw as RigidNode::add_temporal_smoothness).
    int step = 1;
    for (;; ++step) {
      std::mt19937_64 rng{uint64_t(step)};
      if (std::uniform_int_distribution<int>(1, 5)(rng) == want_d) break;
    }
    s.place(2);  // frame 2 (untrained, a wrong box) takes the slerp of frames 1 and 3
    const Pose was = pose_of(*s.node, 1, 0), other = pose_of(*s.node, 1, 1);
    FrameContext frame = s.frame(1);
    frame.step = step;
    s.place(1);
    const size_t n = s.owner->count();
    HostGradients host(n);  // no image gradient
    const NodeGradients g = host.view();
    s.owner->backward(frame, g);
    s.owner->optimizer_step(step, g);
    const Pose now = pose_of(*s.node, 1, 0);
    INFO("neighbours " << want_d << " frames away (step " << step << ")");
    CHECK(now.t[0] == was.t[0]);
    CHECK(now.t[1] == was.t[1]);
    if (want_d == 1) CHECK(now.t[2] - was.t[2] == Approx(5e-4).margin(2e-6));
    else CHECK(now.t[2] == was.t[2]);
    CHECK(pose_of(*s.node, 1, 1) == other);  // absent from frame 0: not in the term
  }
}

TEST_CASE("rigid node: refined poses and their Adam state survive a checkpoint",
          "[scene][rigid][checkpoint]") {
  TempDir dir("rigid_ckpt");
  const std::string path = dir / "rigid.ckpt";
  auto tensors = [](SceneNode& n) {
    std::vector<CheckpointTensor> t;
    for (const NodeTensor& nt : n.checkpoint_tensors()) t.push_back({nt.name, nt.buffer});
    return t;
  };
  RigidFixture trained;
  synthetic_step(trained, 0);
  synthetic_step(trained, 3);
  save_checkpoint(path, 2, {&trained.owner->model()}, {}, tensors(*trained.owner));

  RigidFixture resumed;
  CHECK_FALSE(pose_of(*resumed.node, 3, 1) == pose_of(*trained.node, 3, 1));
  load_checkpoint(path, {&resumed.owner->model()}, tensors(*resumed.owner));
  for (int f = 0; f < kFrames; ++f)
    for (size_t k = 0; k < kInstances; ++k) {
      INFO("frame " << f << ", instance " << k);
      CHECK(pose_of(*resumed.node, f, k) == pose_of(*trained.node, f, k));
    }
  CHECK(resumed.owner->model().tags_to_host() == trained.owner->model().tags_to_host());
  // The next step (its Adam moments included) is the same on both.
  synthetic_step(trained, 3);
  synthetic_step(resumed, 3);
  CHECK(pose_of(*resumed.node, 3, 0) == pose_of(*trained.node, 3, 0));
  CHECK(resumed.place(3).means[0] == trained.place(3).means[0]);
}

TEST_CASE(
    "rigid node: densify keeps tags on clones and splits and culls Gaussians outside "
    "their box",
    "[scene][rigid][densify]") {
  RigidFixture s;
  GaussianModel& m = s.owner->model();
  m.with_host_arrays(
      [](ModelHostArrays& a) {
        float* means = a.params[int(GaussianParam::means)];
        float* log_scales = a.params[int(GaussianParam::log_scales)];
        // Gaussian 2 (vehicle 0) clones; 8 (vehicle 1) splits, from the box centre.
        for (size_t r : {1, 7}) {
          a.absgrad_accum[r] = 0.01f;
          a.grad_count[r] = 1;
        }
        for (int j = 0; j < 3; ++j) {
          means[3 * 7 + size_t(j)] = 0.f;
          log_scales[3 * 7 + size_t(j)] = std::log(0.05f);
        }
        // Gaussian 4 left its 4 m long box (x past 1.1 × half the length); Gaussian 10 left
        // its 2 m high box. Gaussian 5 is just inside the margin.
        means[3 * 3] = 2.5f;
        means[3 * 9 + 2] = -1.2f;
        means[3 * 4] = -2.15f;
      },
      true);
  std::mt19937_64 rng(1);
  DensifySettings settings;
  const DensifyResult r = s.owner->densify(settings, rng);
  CHECK(r.cloned == 1);
  CHECK(r.split == 1);
  CHECK(r.pruned == 2);
  REQUIRE(m.count() == 10 + 1 + 1 - 2);
  CHECK(r.count_after == m.count());

  const std::vector<int32_t> tags = m.tags_to_host();
  const float* means = m.params(GaussianParam::means);
  std::map<int, int> rows_of;
  for (size_t i = 0; i < m.count(); ++i) {
    const int id = int(std::lround(m.params(GaussianParam::sh)[3 * i]));
    ++rows_of[id];
    INFO("row " << i << ", Gaussian " << id);
    CHECK(tags[i] == s.tags[size_t(id - 1)]);
    const auto& box = s.instances.box_size[size_t(tags[i])];
    for (int j = 0; j < 3; ++j) CHECK(std::abs(means[3 * i + size_t(j)]) <= 0.55f * box[size_t(j)]);
  }
  CHECK(rows_of.count(4) == 0);
  CHECK(rows_of.count(10) == 0);
  CHECK(rows_of.at(2) == 2);
  CHECK(rows_of.at(8) == 2);
  CHECK(rows_of.at(5) == 1);
}

TEST_CASE("rigid node: export gives one canonical cloud per instance and the world cloud",
          "[scene][rigid]") {
  RigidFixture s;
  const std::vector<NamedCloud> clouds = s.owner->export_clouds(100);
  REQUIRE(clouds.size() == kInstances + 1);
  CHECK(clouds[0].suffix == "instance_007");
  CHECK(clouds[1].suffix == "instance_012");
  CHECK(clouds[2].suffix == "world_frame000");
  size_t first = 0;
  for (size_t k = 0; k < kInstances; ++k) {
    const GaussianCloud& c = clouds[k].cloud;
    INFO("instance " << k);
    REQUIRE(c.size() == kPerInstance[k]);
    c.check_valid();
    // Canonical: the stored box-local Gaussians of the instance, in order.
    CHECK(c.means == std::vector<float>(s.local.means.begin() + long(3 * first),
                                        s.local.means.begin() + long(3 * (first + c.size()))));
    CHECK(c.opacity_logits ==
          std::vector<float>(s.local.opacity_logits.begin() + long(first),
                             s.local.opacity_logits.begin() + long(first + c.size())));
    first += c.size();
  }
  // The world at frame 0, where vehicle 1 is absent: vehicle 0's Gaussians, placed.
  const GaussianCloud& w = clouds[2].cloud;
  REQUIRE(w.size() == kPerInstance[0]);
  w.check_valid();
  const Mat3 r = box_rotation(0, 0);
  const std::array<double, 3> t = box_translation(0, 0);
  for (size_t i = 0; i < w.size(); ++i)
    for (int a = 0; a < 3; ++a) {
      double expect = t[size_t(a)];
      for (int b = 0; b < 3; ++b) expect += r[size_t(3 * a + b)] * s.local.means[3 * i + size_t(b)];
      CHECK(w.means[3 * i + size_t(a)] == Approx(expect).margin(1e-5));
    }
}

TEST_CASE("pose_from_matrix round-trips rotations", "[scene][rigid]") {
  std::mt19937 rng(17);
  std::normal_distribution<double> normal(0, 1);
  std::vector<std::array<double, 4>> quats;
  for (int i = 0; i < 200; ++i)
    quats.push_back({normal(rng), normal(rng), normal(rng), normal(rng)});
  // Half turns (trace −1) about each axis and a diagonal, and the identity: every branch of
  // Shepperd's method.
  const double h = std::sqrt(0.5);
  for (const std::array<double, 4>& q : std::vector<std::array<double, 4>>{
           {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}, {0, h, h, 0}, {1, 0, 0, 0}, {0.1, 0, 0, 1}})
    quats.push_back(q);
  for (std::array<double, 4> q : quats) {
    const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    for (double& c : q) c /= n;
    const std::array<double, 3> t = {normal(rng), normal(rng), normal(rng)};
    const std::array<float, 16> m = rigid_matrix(quat_to_matrix(q.data()), t);
    float back[4], tb[3];
    pose_from_matrix(m, back, tb);
    INFO("q = (" << q[0] << ", " << q[1] << ", " << q[2] << ", " << q[3] << ")");
    // The same rotation (q and −q are one): |⟨q, q'⟩| = 1, and a unit quaternion.
    double dot = 0, norm = 0;
    for (size_t i = 0; i < 4; ++i) dot += q[i] * back[i], norm += double(back[i]) * back[i];
    CHECK(std::abs(dot) == Approx(1).margin(1e-6));
    CHECK(norm == Approx(1).margin(1e-6));
    const Mat3 r = quat_to_matrix(back);
    for (size_t i = 0; i < 3; ++i)
      for (size_t j = 0; j < 3; ++j) CHECK(r[3 * i + j] == Approx(m[4 * i + j]).margin(1e-6));
    for (size_t i = 0; i < 3; ++i) CHECK(tb[i] == float(t[i]));
  }
}
