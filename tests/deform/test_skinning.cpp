// Skinned humans' math: the kinematic chain (closed-form rest pose and a bent knee, backward
// against finite differences), linear blend skinning (every backward against central finite
// differences in double, absent humans, thread-count independence), the procedural template,
// the kNN smoothness gradient, and CPU/CUDA parity at a realistic size (skipped without a GPU).
#include <catch2/catch.hpp>

#include <omp.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/buffer.h"
#include "core/device.h"
#include "deform/skeleton.h"
#include "deform/skinning.h"
#include "scene/knn_smoothness.h"
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

// A random pose: joint rotations up to ~0.6 rad, a global orientation and translation.
std::vector<double> random_pose(uint64_t seed) {
  std::vector<double> p = random_vector(kPoseFloats, seed, -0.3, 0.3);
  for (int j = 0; j < kSkeletonJoints; ++j) p[size_t(4 * j)] = 1.0 + p[size_t(4 * j)];
  return p;
}

// Host skinning scene in double: H humans, n Gaussians.
struct SkinScene {
  size_t n = 0, H = 0;
  std::vector<int32_t> human, joints;
  std::vector<double> logits, means, quats, opacity, A, Q;
  std::vector<uint8_t> present;
  SkinBindingT<double> binding() const { return {human.data(), joints.data(), logits.data()}; }
  SkinPosesT<double> poses() const {
    return {H, A.data(), Q.data(), present.empty() ? nullptr : present.data()};
  }
};

SkinScene random_scene(size_t n, size_t H, const BodyTemplate& body, uint64_t seed) {
  SkinScene s;
  s.n = n;
  s.H = H;
  std::mt19937_64 rng(seed);
  s.means = random_vector(n * 3, seed + 1, -0.5, 1.5);
  s.quats = random_vector(n * 4, seed + 2);
  s.opacity = random_vector(n, seed + 3);
  s.logits = random_vector(n * kSkinInfluences, seed + 4, -2, 2);
  for (size_t i = 0; i < n; ++i) {
    s.human.push_back(int32_t(rng() % H));
    for (int k = 0; k < kSkinInfluences; ++k) s.joints.push_back(int32_t(rng() % kSkeletonJoints));
  }
  s.A.resize(H * kSkeletonJoints * 12);
  s.Q.resize(H * kSkeletonJoints * 4);
  for (size_t h = 0; h < H; ++h) {
    const std::vector<double> p = random_pose(seed + 10 + h);
    pose_skeleton(body, p.data(), s.A.data() + h * kSkeletonJoints * 12,
                  s.Q.data() + h * kSkeletonJoints * 4);
  }
  s.present.assign(H, 1);
  return s;
}

// L = Σ cm · world means + Σ cq · world quats.
double skin_loss(const SkinScene& s, const std::vector<double>& cm, const std::vector<double>& cq) {
  std::vector<double> wm(s.n * 3), wq(s.n * 4);
  skinning_forward<double>(Device::cpu(), s.n, s.binding(), s.means.data(), s.quats.data(), nullptr,
                           s.poses(), wm.data(), wq.data(), nullptr);
  return dot(cm, wm) + dot(cq, wq);
}

double max_rel(const std::vector<double>& a, const std::vector<double>& b, double floor) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, gs::test::rel_err(a[i], b[i], floor));
  return worst;
}

}  // namespace

TEST_CASE("skeleton: the rest pose is the identity and a bent knee moves the shin in closed form",
          "[skinning]") {
  const BodyTemplate body = procedural_body_template(100, 1);
  std::array<double, kPoseFloats> pose = rest_pose();
  double A[kSkeletonJoints * 12], Q[kSkeletonJoints * 4];
  pose_skeleton(body, pose.data(), A, Q);
  for (int j = 0; j < kSkeletonJoints; ++j) {
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) CHECK(A[12 * j + 4 * r + c] == Approx(r == c ? 1.0 : 0.0).margin(1e-12));
    CHECK(Q[4 * j] == Approx(1.0));
  }
  // Left knee (joint 4) bent by 90° about the body's left axis (x), as a knee bends: a point
  // 0.2 m below the knee goes 0.2 m behind it (−z); the translation moves everything.
  const double a = 3.14159265358979323846 / 2;
  pose[16] = std::cos(a / 2);  // joint 4, (w, x, y, z)
  pose[17] = std::sin(a / 2);
  pose[size_t(kSkeletonJoints * 4)] = 1.0;  // transl x
  pose_skeleton(body, pose.data(), A, Q);
  const auto& knee = body.joints[4];
  const double x[3] = {knee[0], knee[1] - 0.2, knee[2]};
  double w[3];
  for (int r = 0; r < 3; ++r)
    w[r] = A[12 * 7 + 4 * r] * x[0] + A[12 * 7 + 4 * r + 1] * x[1] + A[12 * 7 + 4 * r + 2] * x[2] +
           A[12 * 7 + 4 * r + 3];  // the ankle (7) inherits the knee's rotation
  CHECK(w[0] == Approx(knee[0] + 1.0).margin(1e-12));
  CHECK(w[1] == Approx(knee[1]).margin(1e-12));
  CHECK(w[2] == Approx(knee[2] - 0.2).margin(1e-12));
  // The hip (joint 1) is not moved by its child's rotation.
  CHECK(A[12 * 1 + 0] == Approx(1.0));
  CHECK(A[12 * 1 + 3] == Approx(1.0));
}

TEST_CASE("skeleton: the kinematic chain's backward matches finite differences", "[skinning]") {
  const BodyTemplate body = procedural_body_template(50, 2);
  std::vector<double> pose = random_pose(7);
  for (int j = 0; j < kSkeletonJoints; ++j) pose[size_t(4 * j)] *= 1.3;  // unnormalised
  const std::vector<double> cA = random_vector(kSkeletonJoints * 12, 8),
                            cQ = random_vector(kSkeletonJoints * 4, 9);
  auto loss = [&]() {
    std::vector<double> A(kSkeletonJoints * 12), Q(kSkeletonJoints * 4);
    pose_skeleton(body, pose.data(), A.data(), Q.data());
    return dot(cA, A) + dot(cQ, Q);
  };
  std::vector<double> analytic(kPoseFloats);
  pose_skeleton_backward(body, pose.data(), cA.data(), cQ.data(), analytic.data());
  std::vector<double> numeric(kPoseFloats);
  for (int k = 0; k < kPoseFloats; ++k) numeric[size_t(k)] = central_difference(pose[size_t(k)], 1e-6, loss);
  CHECK(max_rel(analytic, numeric, 1e-6) < 1e-6);
}

TEST_CASE("skinning: forward and backward match finite differences in double", "[skinning]") {
  const BodyTemplate body = procedural_body_template(50, 3);
  SkinScene s = random_scene(40, 3, body, 11);
  s.present[2] = 0;  // an absent human: culled, zero gradients
  const std::vector<double> cm = random_vector(s.n * 3, 12), cq = random_vector(s.n * 4, 13);
  std::vector<double> vm(s.n * 3), vq(s.n * 4), vl(s.n * 4),
      vj(s.H * kSkeletonJoints * kJointGradStride, 0.0);
  skinning_backward<double>(Device::cpu(), s.n, s.binding(), s.means.data(), s.quats.data(),
                            s.poses(), cm.data(), cq.data(), vm.data(), vq.data(), vl.data(),
                            vj.data());
  auto loss = [&]() { return skin_loss(s, cm, cq); };
  // Rounding noise of a central difference at h = 1e-6 on a loss of size ~10: ~1e-8 absolute,
  // hence the floor of 1e-2 under a relative bound of 1e-5 (1e-7 absolute).
  const double h = 1e-6, floor = 1e-2;
  for (size_t i = 0; i < s.n; ++i) {
    if (s.human[i] == 2) {
      CHECK(vm[3 * i] == 0.0);
      CHECK(vl[4 * i] == 0.0);
      continue;
    }
    for (int d = 0; d < 3; ++d)
      CHECK(gs::test::rel_err(vm[3 * i + d], central_difference(s.means[3 * i + d], h, loss), floor) < 1e-5);
    for (int c = 0; c < 4; ++c)
      CHECK(gs::test::rel_err(vq[4 * i + c], central_difference(s.quats[4 * i + c], h, loss), floor) < 1e-5);
    for (int k = 0; k < kSkinInfluences; ++k)
      CHECK(gs::test::rel_err(vl[4 * i + k], central_difference(s.logits[4 * i + k], h, loss), floor) < 1e-5);
  }
  // Joint gradients against finite differences in the transforms and rotations themselves.
  for (size_t h_ = 0; h_ < s.H; ++h_)
    for (int j = 0; j < kSkeletonJoints; ++j) {
      const size_t r = h_ * kSkeletonJoints + size_t(j);
      for (int e = 0; e < 12; ++e)
        CHECK(gs::test::rel_err(vj[r * kJointGradStride + size_t(e)],
                                central_difference(s.A[r * 12 + size_t(e)], h, loss), floor) < 1e-5);
      for (int e = 0; e < 4; ++e)
        CHECK(gs::test::rel_err(vj[r * kJointGradStride + 12 + size_t(e)],
                                central_difference(s.Q[r * 4 + size_t(e)], h, loss), floor) < 1e-5);
    }
}

TEST_CASE("skinning: pose gradients through skinning and the chain match finite differences",
          "[skinning]") {
  // The whole path a training step takes: pose → joints → skinned Gaussians → loss.
  const BodyTemplate body = procedural_body_template(200, 4);
  SkinScene s = random_scene(0, 1, body, 21);
  s.n = body.size();
  for (size_t v = 0; v < body.size(); ++v) {
    s.human.push_back(0);
    for (int k = 0; k < kSkinInfluences; ++k) {
      s.joints.push_back(body.skin_joints[v][size_t(k)]);
      s.logits.push_back(std::log(std::max(double(body.skin_weights[v][size_t(k)]), 1e-6)));
    }
    for (int a = 0; a < 3; ++a) s.means.push_back(body.vertices[v][size_t(a)]);
  }
  s.quats = random_vector(s.n * 4, 22);
  std::vector<double> pose = random_pose(23);
  const std::vector<double> cm = random_vector(s.n * 3, 24), cq = random_vector(s.n * 4, 25);
  auto loss = [&]() {
    pose_skeleton(body, pose.data(), s.A.data(), s.Q.data());
    return skin_loss(s, cm, cq);
  };
  loss();
  std::vector<double> vm(s.n * 3), vq(s.n * 4), vl(s.n * 4), vj(kSkeletonJoints * kJointGradStride, 0.0);
  skinning_backward<double>(Device::cpu(), s.n, s.binding(), s.means.data(), s.quats.data(),
                            s.poses(), cm.data(), cq.data(), vm.data(), vq.data(), vl.data(), vj.data());
  std::vector<double> vA(kSkeletonJoints * 12), vQ(kSkeletonJoints * 4), analytic(kPoseFloats);
  for (int j = 0; j < kSkeletonJoints; ++j) {
    for (int e = 0; e < 12; ++e) vA[size_t(12 * j + e)] = vj[size_t(j * kJointGradStride + e)];
    for (int e = 0; e < 4; ++e) vQ[size_t(4 * j + e)] = vj[size_t(j * kJointGradStride + 12 + e)];
  }
  pose_skeleton_backward(body, pose.data(), vA.data(), vQ.data(), analytic.data());
  std::vector<double> numeric(kPoseFloats);
  for (int k = 0; k < kPoseFloats; ++k) numeric[size_t(k)] = central_difference(pose[size_t(k)], 1e-6, loss);
  CHECK(max_rel(analytic, numeric, 1e-5) < 1e-5);
}

TEST_CASE("skinning: CPU joint sums do not depend on the thread count", "[skinning]") {
  const BodyTemplate body = procedural_body_template(50, 5);
  const SkinScene s = random_scene(20000, 4, body, 31);
  const std::vector<double> cm = random_vector(s.n * 3, 32), cq = random_vector(s.n * 4, 33);
  auto joints_with = [&](int threads) {
    const int before = omp_get_max_threads();
    omp_set_num_threads(threads);
    std::vector<double> vm(s.n * 3), vq(s.n * 4), vl(s.n * 4), vj(s.H * kSkeletonJoints * kJointGradStride, 0.0);
    skinning_backward<double>(Device::cpu(), s.n, s.binding(), s.means.data(), s.quats.data(),
                              s.poses(), cm.data(), cq.data(), vm.data(), vq.data(), vl.data(), vj.data());
    omp_set_num_threads(before);
    return vj;
  };
  CHECK(joints_with(1) == joints_with(3));
}

TEST_CASE("skeleton: the procedural template is an SMPL-topology body bound to its bones",
          "[skinning]") {
  const BodyTemplate a = procedural_body_template(3000, 9), b = procedural_body_template(3000, 9);
  REQUIRE(a.size() == 3000);
  CHECK(a.vertices == b.vertices);
  size_t on_thigh = 0;
  for (size_t v = 0; v < a.size(); ++v) {
    float sum = 0;
    for (int k = 0; k < kSkinInfluences; ++k) {
      CHECK(a.skin_joints[v][size_t(k)] >= 0);
      CHECK(a.skin_joints[v][size_t(k)] < kSkeletonJoints);
      sum += a.skin_weights[v][size_t(k)];
    }
    CHECK(sum == Approx(1.0f).epsilon(1e-5));
    // Mid-thigh vertices (between hip and knee, left side) follow the left hip most.
    const auto& p = a.vertices[v];
    if (p[0] > 0.03f && p[0] < 0.2f && p[1] > 0.6f && p[1] < 0.75f) {
      ++on_thigh;
      CHECK(a.skin_joints[v][0] == 1);
    }
  }
  CHECK(on_thigh > 20);
  // Feet on the ground, head at the top: an adult's height.
  float lo = 1e9f, hi = -1e9f;
  for (const auto& p : a.vertices) lo = std::min(lo, p[1]), hi = std::max(hi, p[1]);
  CHECK(lo == Approx(0.0f).margin(0.05f));
  CHECK(hi == Approx(1.70f).margin(0.04f));
}

TEST_CASE("kNN smoothness: the gradient matches finite differences of the loss", "[skinning]") {
  std::vector<float> pts;
  for (double v : random_vector(60 * 3, 41)) pts.push_back(float(v));
  std::vector<int32_t> group(60);
  for (size_t i = 0; i < 60; ++i) group[i] = int32_t(i % 2);
  std::vector<int32_t> off, idx;
  build_knn_graph(pts, group, 4, off, idx);
  REQUIRE(idx.size() % 2 == 0);
  for (size_t i = 0; i < 60; ++i)
    for (int32_t e = off[i]; e < off[i + 1]; ++e) CHECK(group[size_t(idx[size_t(e)])] == group[i]);
  const size_t edges = idx.size() / 2;
  std::vector<float> values;
  for (double v : random_vector(60 * 5, 42)) values.push_back(float(v));
  const double lambda = 0.3;
  std::vector<float> grad(60 * 5, 0.f);
  add_smoothness_gradient(Device::cpu(), 60, off.data(), idx.data(), values.data(), 5, 3,
                          2 * lambda / double(edges), grad.data(), 5);
  for (size_t i = 0; i < 60; ++i)
    for (int d = 0; d < 5; ++d) {
      float& x = values[i * 5 + size_t(d)];
      const float x0 = x;
      x = x0 + 1e-2f;
      const double lp = smoothness_loss(off, idx, values, 5, 3, lambda, edges);
      x = x0 - 1e-2f;
      const double lm = smoothness_loss(off, idx, values, 5, 3, lambda, edges);
      x = x0;
      // Quadratic loss: the central difference is exact up to float rounding of x ± h.
      CHECK(grad[i * 5 + size_t(d)] == Approx((lp - lm) / 2e-2).margin(1e-5));
    }
}

namespace {
using gs::test::have_gpu;
}  // namespace

// 10 humans × 10k Gaussians, one absent: the forward, every per-Gaussian gradient and the
// per-joint sums (thousands of float atomics per joint) against the CPU.
TEST_CASE("CUDA skinning matches the CPU: 100k Gaussians, 10 humans", "[skinning][cuda]") {
  if (!have_gpu()) return;
  const Device gpu = Device::cuda(0);
  const BodyTemplate body = procedural_body_template(50, 6);
  const SkinScene s = random_scene(100000, 10, body, 51);
  std::vector<uint8_t> present(10, 1);
  present[4] = 0;
  const std::vector<float> means = to_floats(s.means), quats = to_floats(s.quats), op = to_floats(s.opacity),
                           logits = to_floats(s.logits), A = to_floats(s.A), Q = to_floats(s.Q);
  const std::vector<float> vm = to_floats(random_vector(s.n * 3, 52)), vq = to_floats(random_vector(s.n * 4, 53));
  const SkinBindingT<float> cb{s.human.data(), s.joints.data(), logits.data()};
  const SkinPosesT<float> cp{10, A.data(), Q.data(), present.data()};
  std::vector<float> cm(s.n * 3), cq(s.n * 4), co(s.n), gm(s.n * 3), gq(s.n * 4), gl(s.n * 4),
      gj(10 * kSkeletonJoints * kJointGradStride, 0.f);
  skinning_forward<float>(Device::cpu(), s.n, cb, means.data(), quats.data(), op.data(), cp,
                          cm.data(), cq.data(), co.data());
  skinning_backward<float>(Device::cpu(), s.n, cb, means.data(), quats.data(), cp, vm.data(),
                           vq.data(), gm.data(), gq.data(), gl.data(), gj.data());
  const auto dh = upload(gpu, s.human), dj = upload(gpu, s.joints);
  const auto dl = upload(gpu, logits), dmeans = upload(gpu, means), dquats = upload(gpu, quats), dop = upload(gpu, op);
  const auto dA = upload(gpu, A), dQ = upload(gpu, Q), dvm = upload(gpu, vm), dvq = upload(gpu, vq);
  const auto dpresent = upload(gpu, present);
  const SkinBindingT<float> gb{dh.data(), dj.data(), dl.data()};
  const SkinPosesT<float> gp{10, dA.data(), dQ.data(), dpresent.data()};
  Buffer<float> om(gpu, s.n * 3, MemCategory::other), oq(gpu, s.n * 4, MemCategory::other),
      oo(gpu, s.n, MemCategory::other), ogm(gpu, s.n * 3, MemCategory::other),
      ogq(gpu, s.n * 4, MemCategory::other), ogl(gpu, s.n * 4, MemCategory::other);
  auto ogj = Buffer<float>::zeros(gpu, gj.size(), MemCategory::other);
  skinning_forward<float>(gpu, s.n, gb, dmeans.data(), dquats.data(), dop.data(), gp, om.data(),
                          oq.data(), oo.data());
  skinning_backward<float>(gpu, s.n, gb, dmeans.data(), dquats.data(), gp, dvm.data(), dvq.data(),
                           ogm.data(), ogq.data(), ogl.data(), ogj.data());
  CHECK(rel_error(om.to_host(), cm) < 1e-5);
  CHECK(rel_error(oq.to_host(), cq) < 1e-5);
  CHECK(oo.to_host() == co);
  CHECK(rel_error(ogm.to_host(), gm) < 1e-5);
  CHECK(rel_error(ogq.to_host(), gq) < 1e-5);
  CHECK(rel_error(ogl.to_host(), gl) < 1e-5);
  // ~40k float terms per joint row summed in another order (the CPU sums in double).
  CHECK(rel_error(ogj.to_host(), gj) < 1e-4);
}

// 20 humans of 5,000 Gaussians (100k) on the kNN graph, a strided attribute written into a
// strided gradient that already holds values: each Gaussian gathers its neighbours in CSR order
// on both devices, so the sums agree to float rounding of the same terms.
TEST_CASE("CUDA kNN smoothness gradient matches the CPU: 100k Gaussians", "[skinning][cuda]") {
  if (!have_gpu()) return;
  const Device gpu = Device::cuda(0);
  const size_t n = 100000;
  const std::vector<float> pts = to_floats(random_vector(n * 3, 61));
  std::vector<int32_t> group(n);
  for (size_t i = 0; i < n; ++i) group[i] = int32_t(i % 20);
  std::vector<int32_t> off, idx;
  build_knn_graph(pts, group, 8, off, idx);
  const std::vector<float> values = to_floats(random_vector(n * 7, 62));
  const std::vector<float> g0 = to_floats(random_vector(n * 5, 63));
  const double scale = 2 * 1e-3 / double(idx.size() / 2);
  std::vector<float> cpu = g0;
  add_smoothness_gradient(Device::cpu(), n, off.data(), idx.data(), values.data() + 2, 7, 4,
                          scale, cpu.data() + 1, 5);
  const auto doff = upload(gpu, off), didx = upload(gpu, idx);
  const auto dval = upload(gpu, values);
  auto dg = upload(gpu, g0);
  add_smoothness_gradient(gpu, n, doff.data(), didx.data(), dval.data() + 2, 7, 4, scale,
                          dg.data() + 1, 5);
  const std::vector<float> got = dg.to_host();
  CHECK(rel_error(got, cpu) < 1e-6);
  for (size_t i = 0; i < n; ++i) CHECK(got[5 * i] == g0[5 * i]);  // outside the rows: untouched
}
