// CPU z-buffer rasteriser for the synthetic-scene generator. Triangles are transformed, clipped
// to the near plane and snapped to a fixed-point screen grid once; then image rows are rendered
// in parallel, each independently: visibility per sample (integer edge functions, so shared
// edges are covered exactly once), then deferred shading of the visible samples only.
#include "datasets/mesh_renderer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "core/errors.h"

namespace gs::synth {
namespace {

// Screen coordinates are snapped to 1/256 pixel. Sample positions (i + (a+0.5)/s with
// s ∈ {1, 2, 4}) are then exact grid points, and edge functions are exact int64 values.
constexpr int kSubpixelBits = 8;
constexpr int64_t kSubpixel = int64_t{1} << kSubpixelBits;
// Guard band: coordinates are clamped to ±2^29 (±2 M pixels) so edge products fit in int64.
constexpr double kMaxFixed = static_cast<double>(int64_t{1} << 29);

struct ClipVertex {
  Vec3 cam;    // camera-space position (OpenCV axes)
  Vec3 world;  // world position (for the view direction in shading)
  Vec3 normal;
  float u, v;
};

ClipVertex lerp(const ClipVertex& a, const ClipVertex& b, float t) {
  auto l3 = [t](Vec3 p, Vec3 q) { return p + t * (q - p); };
  return {l3(a.cam, b.cam), l3(a.world, b.world), l3(a.normal, b.normal), a.u + t * (b.u - a.u),
          a.v + t * (b.v - a.v)};
}

// A projected triangle ready for scan conversion, oriented so that `area` > 0.
struct ScreenTriangle {
  int64_t x[3], y[3];  // fixed-point screen coordinates
  int64_t area;        // twice the signed area in fixed-point units², > 0
  float inv_z[3];
  int px0, px1, py0, py1;  // inclusive pixel bounding box, clipped to the image
  // Which edges own their boundary samples (top-left-style rule, see edge_includes_zero).
  bool owns_edge[3];
  ClipVertex v[3];  // attributes for shading
  int texture_id;
  int label;  // MeshInstance::label
};

// Twice the signed area of (a, b, p): > 0 when p is on the inner side of edge a→b.
inline int64_t edge_function(int64_t ax, int64_t ay, int64_t bx, int64_t by, int64_t px,
                             int64_t py) {
  return (bx - ax) * (py - ay) - (by - ay) * (px - ax);
}

// Samples exactly on an edge belong to one of the two triangles sharing it: the edge's owner
// is decided by its direction, and a shared edge runs in opposite directions in its two
// (equally oriented) triangles, so exactly one of them owns it.
inline bool edge_includes_zero(int64_t dx, int64_t dy) { return dy > 0 || (dy == 0 && dx < 0); }

int64_t to_fixed(double v) {
  const double f = std::nearbyint(v * static_cast<double>(kSubpixel));
  return static_cast<int64_t>(std::min(kMaxFixed, std::max(-kMaxFixed, f)));
}

// Floor division for the (possibly negative) fixed-point → pixel conversion.
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

void setup_triangle(const ClipVertex& a, const ClipVertex& b, const ClipVertex& c,
                    int texture_id, int label, const Camera& cam,
                    std::vector<ScreenTriangle>& out) {
  ScreenTriangle t;
  t.v[0] = a;
  t.v[1] = b;
  t.v[2] = c;
  for (int k = 0; k < 3; ++k) {
    const Vec3 p = t.v[k].cam;
    // Project in double: the fixed-point snap should be the only rounding that matters.
    t.x[k] = to_fixed(static_cast<double>(cam.fx) * p.x / p.z + cam.cx);
    t.y[k] = to_fixed(static_cast<double>(cam.fy) * p.y / p.z + cam.cy);
  }
  t.area = edge_function(t.x[0], t.y[0], t.x[1], t.y[1], t.x[2], t.y[2]);
  if (t.area == 0) return;  // degenerate after snapping: covers no sample
  if (t.area < 0) {
    std::swap(t.x[1], t.x[2]);
    std::swap(t.y[1], t.y[2]);
    std::swap(t.v[1], t.v[2]);
    t.area = -t.area;
  }
  const int64_t minx = std::min({t.x[0], t.x[1], t.x[2]}), maxx = std::max({t.x[0], t.x[1], t.x[2]});
  const int64_t miny = std::min({t.y[0], t.y[1], t.y[2]}), maxy = std::max({t.y[0], t.y[1], t.y[2]});
  const int64_t px0 = std::max<int64_t>(0, floor_div(minx, kSubpixel));
  const int64_t px1 = std::min<int64_t>(cam.width - 1, floor_div(maxx, kSubpixel));
  const int64_t py0 = std::max<int64_t>(0, floor_div(miny, kSubpixel));
  const int64_t py1 = std::min<int64_t>(cam.height - 1, floor_div(maxy, kSubpixel));
  if (px0 > px1 || py0 > py1) return;  // off screen
  t.px0 = static_cast<int>(px0);
  t.px1 = static_cast<int>(px1);
  t.py0 = static_cast<int>(py0);
  t.py1 = static_cast<int>(py1);
  for (int k = 0; k < 3; ++k) {
    // Edge k is the one opposite vertex k: from vertex k+1 to vertex k+2.
    const int s = (k + 1) % 3, e = (k + 2) % 3;
    t.owns_edge[k] = edge_includes_zero(t.x[e] - t.x[s], t.y[e] - t.y[s]);
    t.inv_z[k] = 1.0f / t.v[k].cam.z;
  }
  t.texture_id = texture_id;
  t.label = label;
  out.push_back(t);
}

// Clips one camera-space triangle against z ≥ near (Sutherland–Hodgman against one plane gives
// at most a quad) and sets up the resulting one or two triangles.
void clip_and_setup(const ClipVertex (&tri)[3], float near_plane, int texture_id, int label,
                    const Camera& cam, std::vector<ScreenTriangle>& out) {
  const bool in0 = tri[0].cam.z >= near_plane, in1 = tri[1].cam.z >= near_plane,
             in2 = tri[2].cam.z >= near_plane;
  if (in0 && in1 && in2) {
    setup_triangle(tri[0], tri[1], tri[2], texture_id, label, cam, out);
    return;
  }
  if (!in0 && !in1 && !in2) return;
  ClipVertex poly[4];
  int n = 0;
  for (int k = 0; k < 3; ++k) {
    const ClipVertex& a = tri[k];
    const ClipVertex& b = tri[(k + 1) % 3];
    const bool ina = a.cam.z >= near_plane, inb = b.cam.z >= near_plane;
    if (ina) poly[n++] = a;
    if (ina != inb) {
      const float t = (near_plane - a.cam.z) / (b.cam.z - a.cam.z);
      ClipVertex c = lerp(a, b, t);
      c.cam.z = near_plane;  // exactly on the plane despite rounding in the lerp
      poly[n++] = c;
    }
  }
  for (int k = 1; k + 1 < n; ++k)
    setup_triangle(poly[0], poly[k], poly[k + 1], texture_id, label, cam, out);
}

// Per-thread buffers for one image row's s × (W·s) samples.
struct RowScratch {
  std::vector<float> inv_z;  // 0 = nothing (infinitely far)
  std::vector<int32_t> tri;  // visible triangle, −1 = none
  std::vector<float> b1, b2;  // screen-space barycentrics of vertices 1 and 2
};

// The label most of a pixel's samples carry (uncovered = 0); ties go to the label of the first
// tied sample in row-major sample order, so the result never depends on hashing or threads.
int32_t majority_label(const RowScratch& sc, const std::vector<ScreenTriangle>& tris, int i,
                       int S, int row_samples) {
  int32_t labels[16] = {};  // S ≤ 4
  int n = 0;
  for (int b = 0; b < S; ++b)
    for (int a = 0; a < S; ++a) {
      const int32_t t = sc.tri[static_cast<size_t>(b) * row_samples + static_cast<size_t>(i) * S + a];
      labels[n++] = t < 0 ? 0 : tris[static_cast<size_t>(t)].label;
    }
  int32_t best = labels[0];
  int best_count = 0;
  for (int k = 0; k < n; ++k) {
    int count = 0;
    for (int q = 0; q < n; ++q) count += labels[q] == labels[k];
    if (count > best_count) {  // strict: an earlier sample keeps a tie
      best = labels[k];
      best_count = count;
    }
  }
  return best;
}

}  // namespace

std::vector<float> MeshRenderResult::rgb_over(Rgb background) const {
  std::vector<float> out(static_cast<size_t>(width) * height * 3);
  const float bg[3] = {background.r, background.g, background.b};
  for (size_t p = 0; p < static_cast<size_t>(width) * height; ++p) {
    const float a = rgba[p * 4 + 3];
    for (int c = 0; c < 3; ++c) out[p * 3 + c] = rgba[p * 4 + c] * a + bg[c] * (1 - a);
  }
  return out;
}

MeshRenderResult render_meshes(const std::vector<MeshInstance>& instances,
                               const std::vector<ProceduralTexture>& textures,
                               const Camera& camera, const MeshRenderOptions& options) {
  const int W = camera.width, H = camera.height, S = options.supersample;
  if (W <= 0 || H <= 0 || W > 16384 || H > 16384)
    throw Error("mesh renderer: image size " + std::to_string(W) + "x" + std::to_string(H) +
                " is out of range (1..16384)");
  if (S != 1 && S != 2 && S != 4)
    throw Error("mesh renderer: supersample must be 1, 2 or 4 (got " + std::to_string(S) + ")");
  if (!(camera.fx > 0) || !(camera.fy > 0))
    throw Error("mesh renderer: focal lengths must be positive");
  if (!(options.near_plane > 0)) throw Error("mesh renderer: near_plane must be positive");

  // ---- Geometry: world and camera space, near-plane clipping, projection, snapping. ----
  const float* w2c = camera.world_to_camera;
  const std::array<float, 3> cc = camera_center(camera);
  const Vec3 eye{cc[0], cc[1], cc[2]};
  std::vector<ScreenTriangle> tris;
  std::vector<ClipVertex> verts;
  {
    size_t total = 0;
    for (const MeshInstance& inst : instances) total += inst.mesh ? inst.mesh->triangle_count() : 0;
    tris.reserve(total + total / 8);  // clipping adds at most one triangle per input triangle
  }
  for (size_t m = 0; m < instances.size(); ++m) {
    const MeshInstance& inst = instances[m];
    GS_CHECK(inst.mesh != nullptr, "mesh instance " + std::to_string(m) + " has no mesh");
    const Mesh& mesh = *inst.mesh;
    if (mesh.texture_id < 0 || mesh.texture_id >= static_cast<int>(textures.size()))
      throw Error("mesh renderer: mesh " + std::to_string(m) + " uses texture " +
                  std::to_string(mesh.texture_id) + " but only " +
                  std::to_string(textures.size()) + " textures were given");
    GS_CHECK(mesh.indices.size() % 3 == 0, "mesh index count is not a multiple of 3");
    verts.resize(mesh.vertices.size());
    for (size_t i = 0; i < mesh.vertices.size(); ++i) {
      const MeshVertex& mv = mesh.vertices[i];
      ClipVertex& cv = verts[i];
      cv.world = inst.object_to_world.transform_point(mv.position);
      cv.normal = inst.object_to_world.transform_normal(mv.normal);
      const Vec3 p = cv.world;
      cv.cam = {w2c[0] * p.x + w2c[1] * p.y + w2c[2] * p.z + w2c[3],
                w2c[4] * p.x + w2c[5] * p.y + w2c[6] * p.z + w2c[7],
                w2c[8] * p.x + w2c[9] * p.y + w2c[10] * p.z + w2c[11]};
      cv.u = mv.u;
      cv.v = mv.v;
    }
    for (size_t t = 0; t < mesh.indices.size(); t += 3) {
      const uint32_t i0 = mesh.indices[t], i1 = mesh.indices[t + 1], i2 = mesh.indices[t + 2];
      GS_CHECK(i0 < verts.size() && i1 < verts.size() && i2 < verts.size(),
               "mesh " + std::to_string(m) + " has a vertex index out of range");
      const ClipVertex tri[3] = {verts[i0], verts[i1], verts[i2]};
      clip_and_setup(tri, options.near_plane, mesh.texture_id, inst.label, camera, tris);
    }
  }

  // ---- Bin triangles by pixel row (CSR lists, in input order, for determinism). ----
  std::vector<int64_t> row_start(static_cast<size_t>(H) + 1, 0);
  for (const ScreenTriangle& t : tris)
    for (int y = t.py0; y <= t.py1; ++y) ++row_start[static_cast<size_t>(y) + 1];
  for (int y = 0; y < H; ++y) row_start[y + 1] += row_start[y];
  std::vector<int32_t> row_tris(static_cast<size_t>(row_start[H]));
  {
    std::vector<int64_t> fill(row_start.begin(), row_start.end() - 1);
    for (size_t k = 0; k < tris.size(); ++k)
      for (int y = tris[k].py0; y <= tris[k].py1; ++y) row_tris[fill[y]++] = static_cast<int32_t>(k);
  }

  MeshRenderResult result;
  result.width = W;
  result.height = H;
  result.rgba.assign(static_cast<size_t>(W) * H * 4, 0.0f);
  result.depth.assign(static_cast<size_t>(W) * H, 0.0f);
  result.label.assign(static_cast<size_t>(W) * H, 0);
  const Vec3 light = normalize(options.light_direction);
  const int row_samples = W * S;
  const float inv_samples = 1.0f / static_cast<float>(S * S);

  // Small images (tests, thumbnails) are cheaper on one thread than waking a team.
  const bool parallel = static_cast<int64_t>(W) * H * S * S >= 128 * 128;
#pragma omp parallel if (parallel)
  {
    RowScratch sc;
    const size_t n = static_cast<size_t>(row_samples) * S;
    sc.inv_z.resize(n);
    sc.tri.resize(n);
    sc.b1.resize(n);
    sc.b2.resize(n);

#pragma omp for schedule(dynamic, 2)
    for (int j = 0; j < H; ++j) {
      std::fill(sc.inv_z.begin(), sc.inv_z.end(), 0.0f);
      std::fill(sc.tri.begin(), sc.tri.end(), -1);

      // Visibility.
      for (int64_t r = row_start[j]; r < row_start[j + 1]; ++r) {
        const ScreenTriangle& t = tris[static_cast<size_t>(row_tris[static_cast<size_t>(r)])];
        const double inv_area = 1.0 / static_cast<double>(t.area);
        for (int b = 0; b < S; ++b) {
          const int64_t py = int64_t{j} * kSubpixel + (2 * b + 1) * (kSubpixel / 2) / S;
          for (int i = t.px0; i <= t.px1; ++i) {
            for (int a = 0; a < S; ++a) {
              const int64_t px = int64_t{i} * kSubpixel + (2 * a + 1) * (kSubpixel / 2) / S;
              const int64_t w0 = edge_function(t.x[1], t.y[1], t.x[2], t.y[2], px, py);
              const int64_t w1 = edge_function(t.x[2], t.y[2], t.x[0], t.y[0], px, py);
              const int64_t w2 = edge_function(t.x[0], t.y[0], t.x[1], t.y[1], px, py);
              if (w0 < 0 || w1 < 0 || w2 < 0) continue;
              if ((w0 == 0 && !t.owns_edge[0]) || (w1 == 0 && !t.owns_edge[1]) ||
                  (w2 == 0 && !t.owns_edge[2]))
                continue;
              const double l0 = w0 * inv_area, l1 = w1 * inv_area, l2 = w2 * inv_area;
              // 1/z is affine in screen space: the z-buffer stores it (larger = nearer).
              const float iz = static_cast<float>(l0 * t.inv_z[0] + l1 * t.inv_z[1] + l2 * t.inv_z[2]);
              const size_t s = static_cast<size_t>(b) * row_samples + static_cast<size_t>(i) * S + a;
              if (iz > sc.inv_z[s]) {
                sc.inv_z[s] = iz;
                sc.tri[s] = static_cast<int32_t>(row_tris[static_cast<size_t>(r)]);
                sc.b1[s] = static_cast<float>(l1);
                sc.b2[s] = static_cast<float>(l2);
              }
            }
          }
        }
      }

      // Deferred shading and the box-filter resolve of each pixel's s×s samples.
      for (int i = 0; i < W; ++i) {
        float sum[3] = {0, 0, 0}, zsum = 0;
        int covered = 0;
        for (int b = 0; b < S; ++b) {
          for (int a = 0; a < S; ++a) {
            const size_t s = static_cast<size_t>(b) * row_samples + static_cast<size_t>(i) * S + a;
            if (sc.tri[s] < 0) continue;
            const ScreenTriangle& t = tris[static_cast<size_t>(sc.tri[s])];
            // Perspective-correct weights: screen barycentrics divided by depth, renormalised.
            const float l1 = sc.b1[s], l2 = sc.b2[s], l0 = 1 - l1 - l2;
            const float z = 1.0f / sc.inv_z[s];
            const float p0 = l0 * t.inv_z[0] * z, p1 = l1 * t.inv_z[1] * z, p2 = l2 * t.inv_z[2] * z;
            const float u = p0 * t.v[0].u + p1 * t.v[1].u + p2 * t.v[2].u;
            const float v = p0 * t.v[0].v + p1 * t.v[1].v + p2 * t.v[2].v;
            const Vec3 pos = p0 * t.v[0].world + p1 * t.v[1].world + p2 * t.v[2].world;
            Vec3 nrm = normalize(p0 * t.v[0].normal + p1 * t.v[1].normal + p2 * t.v[2].normal);
            // Two-sided: light the side the camera sees.
            if (dot(nrm, eye - pos) < 0) nrm = -1.0f * nrm;
            const float shade = options.ambient + options.diffuse * std::max(0.0f, dot(nrm, light));
            const Rgb albedo = sample_texture(textures[static_cast<size_t>(t.texture_id)], u, v);
            sum[0] += std::min(1.0f, albedo.r * shade);
            sum[1] += std::min(1.0f, albedo.g * shade);
            sum[2] += std::min(1.0f, albedo.b * shade);
            zsum += z;
            ++covered;
          }
        }
        result.label[static_cast<size_t>(j) * W + i] = majority_label(sc, tris, i, S, row_samples);
        float* out = &result.rgba[(static_cast<size_t>(j) * W + i) * 4];
        if (covered == 0) {
          out[0] = options.background.r;
          out[1] = options.background.g;
          out[2] = options.background.b;
          out[3] = 0;
        } else {
          const float inv = 1.0f / static_cast<float>(covered);
          out[0] = sum[0] * inv;
          out[1] = sum[1] * inv;
          out[2] = sum[2] * inv;
          out[3] = static_cast<float>(covered) * inv_samples;
          result.depth[static_cast<size_t>(j) * W + i] = zsum * inv;
        }
      }
    }
  }
  return result;
}

}  // namespace gs::synth
