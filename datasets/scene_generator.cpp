// The built-in synthetic scenes (static and dynamic), their camera paths, and the writer of the
// NeRF-synthetic / D-NeRF style dataset (docs/generated_scenes.md).
#include "datasets/scene_generator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "datasets/image_io.h"

namespace gs {
namespace fs = std::filesystem;
using synth::Mat4;
using synth::Mesh;
using synth::ProceduralTexture;
using synth::Rgb;
using synth::TextureKind;
using synth::Vec3;

namespace {

constexpr double kPi = 3.14159265358979323846;
// Horizontal field of view of every generated camera (radians, ~43°).
constexpr double kCameraAngleX = 0.75;
constexpr int kFormatVersion = 1;

// SplitMix64: a tiny deterministic generator whose output is the same on every platform (the
// std:: distributions are not), so a seed means the same dataset everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

 private:
  uint64_t state_;
};

// Independent streams for the scene content, the cameras and the point samples, so that e.g.
// changing the number of views does not move the objects.
enum Stream : uint64_t { kSceneStream = 1, kCameraStream = 2, kPointStream = 3 };
Rng make_rng(uint64_t seed, Stream stream) {
  Rng mixer(seed ^ (0xa0761d6478bd642full * stream));
  return Rng(mixer.next());
}

// ---- Deformation of the "stalk": bending a z-aligned rod into a circular arc. ----

// Bends the object-space point (x, y, z) of a rod standing on z = 0 into an arc of curvature
// kappa in the x–z plane: the cross-section at height z is rotated by θ = κz about y and
// carried along the arc, so the rod keeps its length.
Vec3 bend_point(Vec3 p, float kappa) {
  if (std::abs(kappa) < 1e-6f) return p;
  const double theta = static_cast<double>(kappa) * p.z, r = 1.0 / kappa;
  return {static_cast<float>(r - (r - p.x) * std::cos(theta)), p.y,
          static_cast<float>((r - p.x) * std::sin(theta))};
}

// Normals follow the inverse transpose of the bend's Jacobian, R_y(θ)·diag(1, 1, 1 − κx).
Vec3 bend_normal(Vec3 p, Vec3 n, float kappa) {
  if (std::abs(kappa) < 1e-6f) return n;
  const float theta = kappa * p.z;
  const float nz = n.z / std::max(1e-3f, 1 - kappa * p.x);
  const float c = std::cos(theta), s = std::sin(theta);
  return synth::normalize({n.x * c + nz * s, n.y, -n.x * s + nz * c});
}

// The frame at the tip of a bent rod of the given height (for attaching the bulb).
Mat4 bend_tip_frame(float height, float kappa) {
  return Mat4::translation(bend_point({0, 0, height}, kappa)) *
         Mat4::rotation({0, 1, 0}, kappa * height);
}

ProceduralTexture texture(TextureKind kind, Rgb a, Rgb b, Rgb c, int repeat_u, int repeat_v,
                          Rng& rng) {
  ProceduralTexture t;
  t.kind = kind;
  t.color_a = a;
  t.color_b = b;
  t.color_c = c;
  t.repeat_u = repeat_u;
  t.repeat_v = repeat_v;
  t.seed = rng.next();
  return t;
}

double smooth_pulse(double x, double width) { return std::exp(-(x / width) * (x / width)); }

// One point of the camera path. Static scenes: a Fibonacci spiral over the upper hemisphere
// band (even coverage; elevation rises with the index). Dynamic scenes: a monocular orbit,
// 1.25 turns over the sequence with a gently oscillating elevation, like a hand-held video.
struct PathPoint {
  double azimuth, elevation, distance, time;
};

PathPoint camera_path_point(bool dynamic, int q, int total, double azimuth0, Rng& rng) {
  PathPoint p;
  p.time = total > 1 ? static_cast<double>(q) / (total - 1) : 0.0;
  const double deg = kPi / 180;
  if (!dynamic) {
    const double u = (q + 0.5) / total;
    const double lo = std::sin(12 * deg), hi = std::sin(68 * deg);
    p.elevation = std::asin(lo + (hi - lo) * u);
    p.azimuth = azimuth0 + q * (kPi * (3 - std::sqrt(5.0)));  // golden angle
    p.time = 0;
  } else {
    p.azimuth = azimuth0 + 2 * kPi * 1.25 * p.time;
    p.elevation = (32 + 14 * std::sin(2 * kPi * 2 * p.time)) * deg;
  }
  p.azimuth += rng.uniform(-0.04, 0.04);
  p.elevation += rng.uniform(-0.02, 0.02);
  p.distance = 2.9 * rng.uniform(0.97, 1.03);
  return p;
}

// Blender camera→world (columns: x right, y up, z back; translation = eye) of a camera at `eye`
// looking at `target` with world +z up, rounded to float: the JSON then holds exactly the
// values a float loader reads, which makes the camera round trip exact.
std::array<float, 16> blender_look_at(const double eye[3], const Vec3& target) {
  double f[3] = {target.x - eye[0], target.y - eye[1], target.z - eye[2]};
  auto normalize3 = [](double v[3]) {
    const double n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    for (int i = 0; i < 3; ++i) v[i] /= n;
  };
  normalize3(f);
  double r[3] = {f[1] * 1 - f[2] * 0, f[2] * 0 - f[0] * 1, f[0] * 0 - f[1] * 0};  // f × (0,0,1)
  normalize3(r);
  const double d[3] = {f[1] * r[2] - f[2] * r[1], f[2] * r[0] - f[0] * r[2],
                       f[0] * r[1] - f[1] * r[0]};  // OpenCV "down" = f × r
  std::array<float, 16> m{};
  for (int i = 0; i < 3; ++i) {
    m[i * 4 + 0] = static_cast<float>(r[i]);
    m[i * 4 + 1] = static_cast<float>(-d[i]);  // Blender y = up = −down
    m[i * 4 + 2] = static_cast<float>(-f[i]);  // Blender z = back = −forward
    m[i * 4 + 3] = static_cast<float>(eye[i]);
  }
  m[15] = 1;
  return m;
}

struct ViewPlan {
  GeneratedView view;
  std::array<float, 16> blender_c2w;
};

std::vector<ViewPlan> plan_views(const GeneratedSceneOptions& o, const synth::Scene& scene) {
  const bool dynamic = o.kind == "dynamic";
  const int total = o.views + o.test_views;
  std::vector<bool> is_test(static_cast<size_t>(total), false);
  // Test views are spread evenly through the sequence, so they interleave with the training
  // views in viewpoint (and, for dynamic scenes, in time) without coinciding with any of them.
  for (int k = 0; k < o.test_views; ++k)
    is_test[static_cast<size_t>((2 * static_cast<int64_t>(k) + 1) * total / (2 * o.test_views))] = true;

  Rng rng = make_rng(o.seed, kCameraStream);
  const double azimuth0 = rng.uniform(0, 2 * kPi);
  const float fx = static_cast<float>(0.5 * o.width / std::tan(0.5 * kCameraAngleX));
  std::vector<ViewPlan> train, test;
  for (int q = 0; q < total; ++q) {
    const PathPoint p = camera_path_point(dynamic, q, total, azimuth0, rng);
    const double eye[3] = {scene.look_at.x + p.distance * std::cos(p.elevation) * std::cos(p.azimuth),
                           scene.look_at.y + p.distance * std::cos(p.elevation) * std::sin(p.azimuth),
                           scene.look_at.z + p.distance * std::sin(p.elevation)};
    ViewPlan plan;
    plan.blender_c2w = blender_look_at(eye, scene.look_at);
    GeneratedView& v = plan.view;
    v.time = p.time;
    v.camera.width = o.width;
    v.camera.height = o.height;
    v.camera.fx = v.camera.fy = fx;
    v.camera.cx = 0.5f * static_cast<float>(o.width);
    v.camera.cy = 0.5f * static_cast<float>(o.height);
    synth::set_camera_from_blender_c2w(v.camera, plan.blender_c2w);
    auto& list = is_test[static_cast<size_t>(q)] ? test : train;
    v.split = is_test[static_cast<size_t>(q)] ? "test" : "train";
    v.file_path = "./" + v.split + "/r_" + std::to_string(list.size());
    v.camera.name = v.split + "/r_" + std::to_string(list.size());
    list.push_back(plan);
  }
  train.insert(train.end(), test.begin(), test.end());
  return train;
}

void write_transforms(const std::string& path, const std::vector<ViewPlan>& plans,
                      const std::string& split, const GeneratedSceneOptions& o) {
  nlohmann::json j;
  j["camera_angle_x"] = kCameraAngleX;
  nlohmann::json frames = nlohmann::json::array();
  for (const ViewPlan& p : plans) {
    if (p.view.split != split) continue;
    nlohmann::json f;
    f["file_path"] = p.view.file_path;
    nlohmann::json m = nlohmann::json::array();
    for (int r = 0; r < 4; ++r) {
      nlohmann::json row = nlohmann::json::array();
      for (int c = 0; c < 4; ++c) row.push_back(static_cast<double>(p.blender_c2w[r * 4 + c]));
      m.push_back(row);
    }
    f["transform_matrix"] = m;
    if (o.kind == "dynamic") f["time"] = p.view.time;
    frames.push_back(f);
  }
  j["frames"] = frames;
  // Provenance only; loaders ignore it.
  j["generator"] = {{"name", "gsgen"},         {"format_version", kFormatVersion},
                    {"kind", o.kind},          {"seed", o.seed},
                    {"width", o.width},        {"height", o.height},
                    {"supersample", o.supersample},
                    {"white_background", o.white_background}};
  write_file_atomic(path, j.dump(2) + "\n");
}

// Samples `count` points uniformly by area on the scene surfaces at time 0, coloured with the
// renderer's view-independent Lambert shading, and writes them as a binary PLY with the
// vertex properties graphdeco's points3d.ply uses (float x y z nx ny nz, uchar red green blue).
void write_points(const std::string& path, const synth::Scene& scene, int count, uint64_t seed) {
  std::vector<Mesh> storage;
  const std::vector<synth::MeshInstance> inst = synth::scene_instances(scene, 0.0, storage);
  struct Tri {
    size_t instance;
    uint32_t i0, i1, i2;
  };
  std::vector<Tri> tris;
  std::vector<double> cumulative;
  double total = 0;
  for (size_t m = 0; m < inst.size(); ++m) {
    const Mesh& mesh = *inst[m].mesh;
    const Mat4& M = inst[m].object_to_world;
    for (size_t t = 0; t + 2 < mesh.indices.size(); t += 3) {
      const Vec3 a = M.transform_point(mesh.vertices[mesh.indices[t]].position);
      const Vec3 b = M.transform_point(mesh.vertices[mesh.indices[t + 1]].position);
      const Vec3 c = M.transform_point(mesh.vertices[mesh.indices[t + 2]].position);
      const Vec3 n = synth::cross(b - a, c - a);
      total += 0.5 * std::sqrt(static_cast<double>(synth::dot(n, n)));
      tris.push_back({m, mesh.indices[t], mesh.indices[t + 1], mesh.indices[t + 2]});
      cumulative.push_back(total);
    }
  }
  const synth::MeshRenderOptions shading;
  const Vec3 light = synth::normalize(shading.light_direction);
  Rng rng = make_rng(seed, kPointStream);
  std::string body;
  body.reserve(static_cast<size_t>(count) * 27);
  for (int k = 0; k < count && total > 0; ++k) {
    const double pick = rng.uniform() * total;
    const size_t ti = std::min(tris.size() - 1, static_cast<size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), pick) - cumulative.begin()));
    const Tri& t = tris[ti];
    const Mesh& mesh = *inst[t.instance].mesh;
    const Mat4& M = inst[t.instance].object_to_world;
    // Uniform barycentrics by the square-root warp.
    const double r1 = std::sqrt(rng.uniform()), r2 = rng.uniform();
    const float w0 = static_cast<float>(1 - r1), w1 = static_cast<float>(r1 * (1 - r2)),
                w2 = static_cast<float>(r1 * r2);
    const synth::MeshVertex &a = mesh.vertices[t.i0], &b = mesh.vertices[t.i1], &c = mesh.vertices[t.i2];
    const Vec3 p = M.transform_point(w0 * a.position + w1 * b.position + w2 * c.position);
    const Vec3 n = M.transform_normal(w0 * a.normal + w1 * b.normal + w2 * c.normal);
    const Rgb albedo = synth::sample_texture(scene.textures[static_cast<size_t>(mesh.texture_id)],
                                             w0 * a.u + w1 * b.u + w2 * c.u,
                                             w0 * a.v + w1 * b.v + w2 * c.v);
    const float shade = shading.ambient + shading.diffuse * std::max(0.0f, synth::dot(n, light));
    const float xyz[6] = {p.x, p.y, p.z, n.x, n.y, n.z};
    char bytes[sizeof(xyz)];
    std::memcpy(bytes, xyz, sizeof(xyz));  // little-endian hosts only (checked below)
    body.append(bytes, sizeof(bytes));
    for (float ch : {albedo.r, albedo.g, albedo.b})
      body.push_back(static_cast<char>(static_cast<uint8_t>(std::lround(std::min(1.0f, std::max(0.0f, ch * shade)) * 255))));
  }
  const int written = total > 0 ? count : 0;
  const std::string header = "ply\nformat binary_little_endian 1.0\ncomment gsgen surface samples\n"
                             "element vertex " + std::to_string(written) +
                             "\nproperty float x\nproperty float y\nproperty float z\n"
                             "property float nx\nproperty float ny\nproperty float nz\n"
                             "property uchar red\nproperty uchar green\nproperty uchar blue\n"
                             "end_header\n";
  write_file_atomic(path, header + body);
}

}  // namespace

namespace synth {

std::array<float, 16> blender_c2w_from_camera(const Camera& camera) {
  std::array<float, 16> m = camera_to_world(camera);
  for (int r = 0; r < 3; ++r) {
    m[r * 4 + 1] = -m[r * 4 + 1];
    m[r * 4 + 2] = -m[r * 4 + 2];
  }
  return m;
}

void set_camera_from_blender_c2w(Camera& camera, const std::array<float, 16>& c2w) {
  float pose[16];
  for (int i = 0; i < 16; ++i) pose[i] = c2w[static_cast<size_t>(i)];
  // Blender/OpenGL camera axes (x right, y up, z back) → OpenCV (x right, y down, z forward):
  // negate the camera's y and z axes, i.e. columns 1 and 2 of the rotation. Exact in float.
  for (int r = 0; r < 3; ++r) {
    pose[r * 4 + 1] = -pose[r * 4 + 1];
    pose[r * 4 + 2] = -pose[r * 4 + 2];
  }
  set_camera_to_world(camera, pose);
}

Scene build_scene(const std::string& kind, uint64_t seed) {
  if (kind != "static" && kind != "dynamic")
    throw ConfigError("unknown generated scene kind '" + kind + "'", "use static or dynamic");
  const bool dynamic = kind == "dynamic";
  Rng rng = make_rng(seed, kSceneStream);
  Scene s;
  s.look_at = {0, 0, 0.2f};
  s.radius = 1.1f;

  enum Tex { kGround, kCrate, kBall, kRing, kStalk, kBulb, kPillar };
  s.textures = {
      texture(TextureKind::tiles, {0.86f, 0.78f, 0.60f}, {0.33f, 0.56f, 0.62f}, {0.22f, 0.2f, 0.2f}, 12, 12, rng),
      texture(TextureKind::brick, {0.74f, 0.26f, 0.14f}, {0.86f, 0.83f, 0.76f}, {}, 3, 6, rng),
      texture(TextureKind::marble, {0.88f, 0.90f, 0.96f}, {0.08f, 0.12f, 0.42f}, {0.35f, 0.55f, 0.98f}, 3, 2, rng),
      texture(TextureKind::checker, {0.97f, 0.80f, 0.08f}, {0.45f, 0.10f, 0.58f}, {}, 16, 4, rng),
      texture(TextureKind::stripes, {0.16f, 0.55f, 0.18f}, {0.72f, 0.90f, 0.28f}, {0.97f, 0.95f, 0.85f}, 3, 5, rng),
      texture(TextureKind::dots, {0.96f, 0.45f, 0.08f}, {1.0f, 0.97f, 0.85f}, {0.55f, 0.04f, 0.22f}, 10, 5, rng),
      texture(TextureKind::stripes, {0.92f, 0.92f, 0.95f}, {0.85f, 0.12f, 0.15f}, {0.12f, 0.25f, 0.75f}, 1, 6, rng),
  };
  // Small seeded placement jitter: a different seed is a different (but equally tidy) scene.
  auto jitter = [&rng]() { return static_cast<float>(rng.uniform(-0.03, 0.03)); };

  s.objects.push_back({"ground", make_disk(1.0f, 96, 10, kGround), nullptr, nullptr});

  {  // A brick crate that turns half a revolution.
    const float size = 0.38f, yaw0 = 0.5f + 5 * jitter();
    const Vec3 at{-0.5f + jitter(), -0.25f + jitter(), 0.5f * size};
    s.objects.push_back({"crate", make_box({size, size, size}, kCrate),
                         [=](double t) {
                           const float yaw = yaw0 + (dynamic ? static_cast<float>(kPi * t) : 0.f);
                           return Mat4::translation(at) * Mat4::rotation({0, 0, 1}, yaw);
                         },
                         nullptr});
  }
  {  // A marble ball that bounces twice, squashing (non-rigidly) when it hits the ground.
    const float r = 0.2f;
    const float x0 = 0.5f + jitter(), y0 = -0.55f + jitter();
    s.objects.push_back({"ball", make_uv_sphere(r, 40, 20, kBall),
                         [=](double t) {
                           if (!dynamic) return Mat4::translation({x0 - 0.15f, y0, r}) * Mat4::rotation({0.3f, 1, 0}, 0.7f);
                           const double p = 2 * t - std::floor(2 * t);  // phase of the bounce
                           const double squash = 1 - 0.3 * smooth_pulse(std::min(p, 1 - p), 0.06);
                           const double height = r * squash + 0.45 * 4 * p * (1 - p);
                           const float sxy = static_cast<float>(1 / std::sqrt(squash));  // keeps volume
                           return Mat4::translation({x0 - 0.4f * static_cast<float>(t), y0, static_cast<float>(height)}) *
                                  Mat4::scale({sxy, sxy, static_cast<float>(squash)}) *
                                  Mat4::rotation({0.3f, 1, 0}, 0.7f + static_cast<float>(4 * t));
                         },
                         nullptr});
  }
  {  // A chequered ring standing on its rim, rolling along an arc around the centre.
    const float major = 0.2f, minor = 0.065f;
    const float a0 = 3 * jitter();
    s.objects.push_back({"ring", make_torus(major, minor, 64, 24, kRing),
                         [=](double t) {
                           const double a = a0 + (dynamic ? 1.0 * t : 0.5);
                           // Wheel plane along the direction of travel, rolling without slip.
                           const float yaw = static_cast<float>(a + 0.5 * kPi);
                           const float roll = static_cast<float>(-(a - a0) * 0.6 / (major + minor));
                           return Mat4::translation({static_cast<float>(0.6 * std::cos(a)), static_cast<float>(0.6 * std::sin(a)), major + minor}) *
                                  Mat4::rotation({0, 0, 1}, yaw) * Mat4::rotation({1, 0, 0}, 0.5f * static_cast<float>(kPi)) *
                                  Mat4::rotation({0, 0, 1}, roll);
                         },
                         nullptr});
  }
  {  // A striped stalk that sways by bending (a true non-rigid deformation) with a dotted bulb.
    const float height = 0.7f, radius = 0.055f, bulb = 0.1f;
    const Vec3 at{-0.1f + jitter(), 0.45f + jitter(), 0};
    const float yaw = 2.2f + 5 * jitter();
    auto kappa = [=](double t) {
      return dynamic ? static_cast<float>(1.5 * std::sin(2 * kPi * 1.5 * t)) : 0.7f;
    };
    const Mat4 base = Mat4::translation(at) * Mat4::rotation({0, 0, 1}, yaw);
    s.objects.push_back({"stalk", make_cylinder(radius, height, 24, 24, true, kStalk),
                         [=](double) { return base; },
                         [=](double t, Mesh& mesh) {
                           const float k = kappa(t);
                           for (synth::MeshVertex& v : mesh.vertices) {
                             v.normal = bend_normal(v.position, v.normal, k);
                             v.position = bend_point(v.position, k);
                           }
                         }});
    s.objects.push_back({"bulb", make_uv_sphere(bulb, 32, 16, kBulb),
                         [=](double t) {
                           return base * bend_tip_frame(height, kappa(t)) *
                                  Mat4::translation({0, 0, 0.8f * bulb});
                         },
                         nullptr});
  }
  {  // A static striped pillar at the back: a fixed reference for the moving objects.
    const Vec3 at{-0.55f + jitter(), 0.35f + jitter(), 0};
    s.objects.push_back({"pillar", make_cylinder(0.09f, 0.5f, 32, 1, true, kPillar),
                         [=](double) { return Mat4::translation(at); }, nullptr});
  }
  return s;
}

std::vector<MeshInstance> scene_instances(const Scene& scene, double t, std::vector<Mesh>& storage) {
  storage.clear();
  storage.reserve(scene.objects.size());  // no reallocation: instances point into it
  std::vector<MeshInstance> out;
  out.reserve(scene.objects.size());
  for (const SceneObject& o : scene.objects) {
    MeshInstance inst;
    if (o.deform) {
      storage.push_back(o.mesh);
      o.deform(t, storage.back());
      inst.mesh = &storage.back();
    } else {
      inst.mesh = &o.mesh;
    }
    inst.object_to_world = o.pose ? o.pose(t) : Mat4{};
    out.push_back(inst);
  }
  return out;
}

}  // namespace synth

void validate_generated_scene_options(const GeneratedSceneOptions& o) {
  if (o.kind != "static" && o.kind != "dynamic")
    throw ConfigError("generated scene kind '" + o.kind + "' is unknown", "use static or dynamic");
  if (o.views < 1 || o.views > 100000)
    throw ConfigError("generated scene: views must be in 1..100000 (got " + std::to_string(o.views) + ")");
  if (o.test_views < 0 || o.test_views > 100000)
    throw ConfigError("generated scene: test views must be in 0..100000 (got " +
                      std::to_string(o.test_views) + ")");
  if (o.width < 8 || o.width > 8192 || o.height < 8 || o.height > 8192)
    throw ConfigError("generated scene: image size " + std::to_string(o.width) + "x" +
                      std::to_string(o.height) + " is out of range (8..8192 per side)");
  if (o.supersample != 1 && o.supersample != 2 && o.supersample != 4)
    throw ConfigError("generated scene: supersample must be 1, 2 or 4 (got " +
                      std::to_string(o.supersample) + ")");
  if (o.points < 0 || o.points > 10000000)
    throw ConfigError("generated scene: points must be in 0..10000000 (got " +
                      std::to_string(o.points) + ")");
}

std::vector<GeneratedView> generated_views(const GeneratedSceneOptions& options) {
  validate_generated_scene_options(options);
  const synth::Scene scene = synth::build_scene(options.kind, options.seed);
  std::vector<GeneratedView> out;
  for (const ViewPlan& p : plan_views(options, scene)) out.push_back(p.view);
  return out;
}

void generate_scene(const std::string& out_dir, const GeneratedSceneOptions& options) {
  validate_generated_scene_options(options);
  if (out_dir.empty()) throw ConfigError("generated scene: no output directory given");
  {
    const uint16_t probe = 1;
    uint8_t first;
    std::memcpy(&first, &probe, 1);
    if (first != 1) throw IoError("points3d.ply: big-endian hosts are not supported");
  }
  std::error_code ec;
  if (fs::exists(out_dir, ec) && !fs::is_directory(out_dir, ec))
    throw IoError(out_dir + ": exists and is not a directory", "choose another output path");
  for (const char* sub : {"train", "test"}) {
    fs::create_directories(fs::path(out_dir) / sub, ec);
    if (ec)
      throw IoError(out_dir + "/" + sub + ": cannot create the directory: " + ec.message(),
                    "check that the output path is writable");
  }

  const synth::Scene scene = synth::build_scene(options.kind, options.seed);
  const std::vector<ViewPlan> plans = plan_views(options, scene);
  synth::MeshRenderOptions ro;
  ro.supersample = options.supersample;
  ro.background = options.white_background ? Rgb{1, 1, 1} : Rgb{0, 0, 0};
  std::vector<Mesh> storage;
  for (const ViewPlan& p : plans) {
    const std::vector<synth::MeshInstance> inst = synth::scene_instances(scene, p.view.time, storage);
    const synth::MeshRenderResult img = synth::render_meshes(inst, scene.textures, p.view.camera, ro);
    write_png((fs::path(out_dir) / (p.view.file_path.substr(2) + ".png")).string(), img.rgba.data(),
              img.width, img.height, 4);
  }
  write_points((fs::path(out_dir) / "points3d.ply").string(), scene, options.points, options.seed);
  // JSON last: a complete transforms file means its images are in place.
  write_transforms((fs::path(out_dir) / "transforms_train.json").string(), plans, "train", options);
  write_transforms((fs::path(out_dir) / "transforms_test.json").string(), plans, "test", options);
}

}  // namespace gs
