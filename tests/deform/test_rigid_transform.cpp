// The rigid instance transform of OmniRe's rigid nodes: closed-form poses (identity, a 90° yaw),
// absent instances, every backward against central finite differences in double, the CPU
// pose-gradient sums independent of the thread count, pose interpolation, and CPU/CUDA parity at
// a training size (skipped, visibly, without a GPU).
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "deform/rigid_transform.h"
#include "deform/rigid_transform_impl.h"
#include "tests/deform/gradient_check.h"
#include "tests/test_support.h"
#include "tests/parity_util.h"

using namespace gs;
using gs::test::rel_error;
using gs::test::to_floats;
using gs::test::upload;
using gs::test::random_floats;
using gs::test::central_difference;
using gs::test::dot;
using gs::test::random_vector;

namespace {

// Local Gaussians and one frame's poses, on the host.
template <class T>
struct RigidScene {
  size_t n = 0;
  std::vector<int32_t> ids;
  std::vector<T> means, quats, opacity;
  std::vector<T> pose_quats, pose_trans;
  std::vector<uint8_t> present;

  InstancePosesT<T> poses() const {
    return {pose_trans.size() / 3, pose_quats.data(), pose_trans.data(),
            present.empty() ? nullptr : present.data()};
  }
};

RigidScene<double> random_rigid_scene(size_t n, size_t instances, uint64_t seed) {
  RigidScene<double> s;
  s.n = n;
  std::mt19937_64 gen(seed);
  s.ids.resize(n);
  for (size_t i = 0; i < n; ++i) s.ids[i] = int32_t(gen() % instances);
  s.means = random_vector(n * 3, seed + 1, -2, 2);
  s.quats = random_vector(n * 4, seed + 2);
  s.opacity = random_vector(n, seed + 3, -3, 3);
  s.pose_quats = random_vector(instances * 4, seed + 4);
  s.pose_trans = random_vector(instances * 3, seed + 5, -10, 10);
  s.present.assign(instances, 1);
  return s;
}

struct RigidOutputs {
  std::vector<double> means, quats, opacity;
};

RigidOutputs forward(const RigidScene<double>& s) {
  RigidOutputs o{std::vector<double>(s.n * 3), std::vector<double>(s.n * 4),
                 std::vector<double>(s.n)};
  rigid_transform_forward<double>(Device::cpu(), s.n, s.ids.data(), s.means.data(),
                                  s.quats.data(), s.opacity.data(), s.poses(), o.means.data(),
                                  o.quats.data(), o.opacity.data());
  return o;
}

// Relative error, absolute below 1e-3 (where central differences' rounding, ~1e-9 here, dominates).
double rel_err(double analytic, double numeric) { return gs::test::rel_err(analytic, numeric, 1e-3); }

}  // namespace

TEST_CASE("rigid transform: an identity pose leaves Gaussians unchanged", "[rigid]") {
  RigidScene<double> s = random_rigid_scene(20, 1, 1);
  s.pose_quats = {2.5, 0, 0, 0};  // unnormalised identity
  s.pose_trans = {0, 0, 0};
  s.present.clear();  // no presence flags: every instance present
  const RigidOutputs o = forward(s);
  for (size_t k = 0; k < s.means.size(); ++k) CHECK(o.means[k] == Approx(s.means[k]).margin(1e-15));
  for (size_t k = 0; k < s.quats.size(); ++k) CHECK(o.quats[k] == Approx(s.quats[k]).margin(1e-15));
  CHECK(o.opacity == s.opacity);
}

TEST_CASE("rigid transform: a 90 degree yaw maps x to y, and composes orientations", "[rigid]") {
  RigidScene<double> s;
  s.n = 2;
  s.ids = {0, 0};
  s.means = {1, 0, 0, 0.5, 2, -1};
  s.quats = {0.9, 0.1, -0.3, 0.2, 1, 0, 0, 0};
  s.opacity = {0.5, -0.5};
  const double h = std::sqrt(0.5);
  s.pose_quats = {3 * h, 0, 0, 3 * h};  // yaw +90° about z, unnormalised (norm 3)
  s.pose_trans = {10, 20, 30};
  s.present = {1};
  const RigidOutputs o = forward(s);
  CHECK(o.means[0] == Approx(10));
  CHECK(o.means[1] == Approx(21));
  CHECK(o.means[2] == Approx(30));
  // (x, y, z) → (−y, x, z)
  CHECK(o.means[3] == Approx(10 - 2));
  CHECK(o.means[4] == Approx(20 + 0.5));
  CHECK(o.means[5] == Approx(30 - 1));
  // World orientation = R(pose)·R(local); the world quaternion keeps the local one's norm.
  using rmath::Vec4;
  const rmath::Mat3<double> expect = rmath::mul(rmath::quat_to_rotmat(Vec4<double>{h, 0, 0, h}),
                                                rmath::quat_to_rotmat(Vec4<double>{0.9, 0.1, -0.3, 0.2}));
  const rmath::Mat3<double> got =
      rmath::quat_to_rotmat(Vec4<double>{o.quats[0], o.quats[1], o.quats[2], o.quats[3]});
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) CHECK(got.m[a][b] == Approx(expect.m[a][b]).margin(1e-12));
  const double local_norm = std::sqrt(0.81 + 0.01 + 0.09 + 0.04);
  CHECK(std::sqrt(o.quats[0] * o.quats[0] + o.quats[1] * o.quats[1] + o.quats[2] * o.quats[2] +
                  o.quats[3] * o.quats[3]) == Approx(local_norm));
  // The identity local orientation becomes the pose's (normalised).
  CHECK(o.quats[4] == Approx(h));
  CHECK(o.quats[5] == Approx(0).margin(1e-15));
  CHECK(o.quats[6] == Approx(0).margin(1e-15));
  CHECK(o.quats[7] == Approx(h));
}

TEST_CASE("rigid transform: absent instances are culled and get no gradient", "[rigid]") {
  RigidScene<double> s = random_rigid_scene(30, 3, 7);
  s.present = {1, 0, 1};
  s.ids[0] = 1;
  s.ids[1] = 7;  // out of range: treated as absent
  s.ids[2] = -1;
  const RigidOutputs o = forward(s);
  std::vector<double> vm = random_vector(s.n * 3, 8), vq = random_vector(s.n * 4, 9);
  std::vector<double> gm(s.n * 3, 99), gq(s.n * 4, 99), gpq(12, 0), gpt(9, 0);
  rigid_transform_backward<double>(Device::cpu(), s.n, s.ids.data(), s.means.data(),
                                   s.quats.data(), s.poses(), vm.data(), vq.data(), gm.data(),
                                   gq.data(), gpq.data(), gpt.data());
  for (size_t i = 0; i < s.n; ++i) {
    const bool absent = s.ids[i] < 0 || s.ids[i] > 2 || s.ids[i] == 1;
    INFO("Gaussian " << i << " instance " << s.ids[i]);
    if (absent) {
      CHECK(o.opacity[i] == double(kAbsentOpacityLogit));
      for (int d = 0; d < 3; ++d) CHECK(o.means[3 * i + d] == s.means[3 * i + d]);
      for (int d = 0; d < 3; ++d) CHECK(gm[3 * i + d] == 0);
      for (int c = 0; c < 4; ++c) CHECK(gq[4 * i + c] == 0);
    } else {
      CHECK(o.opacity[i] == s.opacity[i]);
    }
  }
  for (int c = 0; c < 4; ++c) CHECK(gpq[4 + c] == 0);
  for (int d = 0; d < 3; ++d) CHECK(gpt[3 + d] == 0);
  // Without an opacity output the transform still runs (the caller handles absence).
  std::vector<double> m(s.n * 3), q(s.n * 4);
  rigid_transform_forward<double>(Device::cpu(), s.n, s.ids.data(), s.means.data(),
                                  s.quats.data(), nullptr, s.poses(), m.data(), q.data(), nullptr);
  CHECK(m == o.means);
}

TEST_CASE("rigid transform backward matches finite differences (mu, q_local, q_inst, T)",
          "[rigid]") {
  RigidScene<double> s = random_rigid_scene(40, 4, 11);
  s.present = {1, 1, 0, 1};
  // L = Σ wm·mean_world + Σ wq·quat_world: the backward is linear in its input gradient, so a
  // random linear loss exercises every path.
  std::vector<double> wm = random_vector(s.n * 3, 12), wq = random_vector(s.n * 4, 13);
  // An absent Gaussian's mean and quaternion are placeholders the rasterizer never reads (its
  // opacity culls it), so they carry no loss here, and the backward gives them none.
  for (size_t i = 0; i < s.n; ++i)
    if (s.ids[i] == 2) {
      for (int d = 0; d < 3; ++d) wm[3 * i + d] = 0;
      for (int c = 0; c < 4; ++c) wq[4 * i + c] = 0;
    }
  auto loss = [&]() {
    const RigidOutputs o = forward(s);
    return dot(wm, o.means) + dot(wq, o.quats);
  };
  std::vector<double> gm(s.n * 3), gq(s.n * 4), gpq(16, 0.25), gpt(12, -0.5);
  rigid_transform_backward<double>(Device::cpu(), s.n, s.ids.data(), s.means.data(),
                                   s.quats.data(), s.poses(), wm.data(), wq.data(), gm.data(),
                                   gq.data(), gpq.data(), gpt.data());
  // The pose gradients were accumulated onto 0.25 and −0.5.
  for (double& g : gpq) g -= 0.25;
  for (double& g : gpt) g += 0.5;
  const double h = 1e-5;
  const auto check_all = [&](std::vector<double>& x, const std::vector<double>& g, const char* what) {
    double worst = 0;
    for (size_t k = 0; k < x.size(); ++k) {
      const double num = central_difference(x[k], h, loss);
      worst = std::max(worst, rel_err(g[k], num));
    }
    INFO(what);
    CHECK(worst < 1e-5);
  };
  check_all(s.means, gm, "d/d mean_local");
  check_all(s.quats, gq, "d/d quat_local");
  check_all(s.pose_quats, gpq, "d/d pose quaternion");
  check_all(s.pose_trans, gpt, "d/d pose translation");
  // The absent instance's pose gets nothing.
  for (int c = 0; c < 4; ++c) CHECK(gpq[8 + c] == 0);
}

TEST_CASE("rigid transform: CPU pose gradients do not depend on the thread count", "[rigid]") {
  const RigidScene<double> sd = random_rigid_scene(70000, 9, 21);
  RigidScene<float> s;
  s.n = sd.n;
  s.ids = sd.ids;
  s.means = to_floats(sd.means);
  s.quats = to_floats(sd.quats);
  s.pose_quats = to_floats(sd.pose_quats);
  s.pose_trans = to_floats(sd.pose_trans);
  s.present = sd.present;
  const std::vector<float> vm = to_floats(random_vector(s.n * 3, 22)), vq = to_floats(random_vector(s.n * 4, 23));
  auto run = [&](int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    std::vector<float> gm(s.n * 3), gq(s.n * 4), gpq(36, 0), gpt(27, 0);
    rigid_transform_backward<float>(Device::cpu(), s.n, s.ids.data(), s.means.data(),
                                    s.quats.data(), s.poses(), vm.data(), vq.data(), gm.data(),
                                    gq.data(), gpq.data(), gpt.data());
    omp_set_num_threads(saved);
    gpq.insert(gpq.end(), gpt.begin(), gpt.end());
    return gpq;
  };
  CHECK(run(1) == run(3));
}

TEST_CASE("pose interpolation: slerp on the shorter arc, linear translation", "[rigid]") {
  const double h = std::sqrt(0.5);
  RigidPose a, b;
  b.quat = {2 * h, 0, 0, 2 * h};  // yaw 90°, unnormalised
  b.translation = {4, -2, 8};
  const RigidPose m = interpolate_pose(a, b, 0.5);
  CHECK(m.quat[0] == Approx(std::cos(M_PI / 8)));
  CHECK(m.quat[3] == Approx(std::sin(M_PI / 8)));
  CHECK(m.translation[0] == Approx(2));
  CHECK(m.translation[1] == Approx(-1));
  CHECK(m.translation[2] == Approx(4));
  const RigidPose e0 = interpolate_pose(a, b, 0), e1 = interpolate_pose(a, b, 1);
  CHECK(e0.quat[0] == Approx(1));
  CHECK(e1.quat[0] == Approx(h));
  CHECK(e1.quat[3] == Approx(h));
  // −b is the same rotation: the path must still be the 45° one, not the long way round.
  const std::array<double, 4> q = slerp(a.quat, {-h, 0, 0, -h}, 0.5);
  CHECK(std::abs(q[0]) == Approx(std::cos(M_PI / 8)));
  CHECK(std::abs(q[3]) == Approx(std::sin(M_PI / 8)));
  CHECK(q[0] * q[3] > 0);
  // Nearly equal quaternions fall back to a normalised lerp without dividing by sin θ ≈ 0.
  const std::array<double, 4> c = slerp({1, 0, 0, 0}, {1, 1e-12, 0, 0}, 0.3);
  CHECK(c[0] == Approx(1));
}

namespace {

using gs::test::have_gpu;



}  // namespace

// A rigid node at a training size: 100k Gaussians over 50 instances, stored grouped by instance
// (the warp-aggregated path) and then shuffled (per-lane atomics), a few instances absent.
TEST_CASE("CUDA rigid transform matches the CPU: 100k Gaussians, 50 instances", "[rigid][cuda]") {
  if (!have_gpu()) return;
  const Device gpu = Device::cuda(0);
  const size_t n = 100000, K = 50;
  for (const bool grouped : {true, false}) {
    INFO((grouped ? "grouped by instance" : "shuffled"));
    const RigidScene<double> sd = random_rigid_scene(n, K, 31);
    RigidScene<float> s;
    s.n = n;
    s.ids = sd.ids;
    if (grouped) std::sort(s.ids.begin(), s.ids.end());
    s.means = to_floats(sd.means);
    s.quats = to_floats(sd.quats);
    s.opacity = to_floats(sd.opacity);
    s.pose_quats = to_floats(sd.pose_quats);
    s.pose_trans = to_floats(sd.pose_trans);
    s.present = sd.present;
    s.present[3] = s.present[17] = s.present[49] = 0;
    const std::vector<float> vm = to_floats(random_vector(n * 3, 32)), vq = to_floats(random_vector(n * 4, 33));

    std::vector<float> cm(n * 3), cq(n * 4), co(n), gm(n * 3), gq(n * 4), gpq(K * 4, 0),
        gpt(K * 3, 0);
    rigid_transform_forward<float>(Device::cpu(), n, s.ids.data(), s.means.data(), s.quats.data(),
                                   s.opacity.data(), s.poses(), cm.data(), cq.data(), co.data());
    rigid_transform_backward<float>(Device::cpu(), n, s.ids.data(), s.means.data(),
                                    s.quats.data(), s.poses(), vm.data(), vq.data(), gm.data(),
                                    gq.data(), gpq.data(), gpt.data());

    const auto ids = upload(gpu, s.ids);
    const auto means = upload(gpu, s.means), quats = upload(gpu, s.quats), opacity = upload(gpu, s.opacity);
    const auto pq = upload(gpu, s.pose_quats), pt = upload(gpu, s.pose_trans);
    const auto present = upload(gpu, s.present);
    const auto dvm = upload(gpu, vm), dvq = upload(gpu, vq);
    const InstancePosesT<float> poses{K, pq.data(), pt.data(), present.data()};
    Buffer<float> om(gpu, n * 3, MemCategory::other), oq(gpu, n * 4, MemCategory::other),
        oo(gpu, n, MemCategory::other), dgm(gpu, n * 3, MemCategory::other),
        dgq(gpu, n * 4, MemCategory::other);
    auto dgpq = Buffer<float>::zeros(gpu, K * 4, MemCategory::other);
    auto dgpt = Buffer<float>::zeros(gpu, K * 3, MemCategory::other);
    rigid_transform_forward<float>(gpu, n, ids.data(), means.data(), quats.data(), opacity.data(),
                                   poses, om.data(), oq.data(), oo.data());
    rigid_transform_backward<float>(gpu, n, ids.data(), means.data(), quats.data(), poses,
                                    dvm.data(), dvq.data(), dgm.data(), dgq.data(), dgpq.data(),
                                    dgpt.data());
    CHECK(rel_error(om.to_host(), cm) < 1e-5);
    CHECK(rel_error(oq.to_host(), cq) < 1e-5);
    CHECK(oo.to_host() == co);
    CHECK(rel_error(dgm.to_host(), gm) < 1e-5);
    CHECK(rel_error(dgq.to_host(), gq) < 1e-5);
    // ~2000 float terms per instance summed in another order.
    CHECK(rel_error(dgpq.to_host(), gpq) < 1e-4);
    CHECK(rel_error(dgpt.to_host(), gpt) < 1e-4);
  }
}
