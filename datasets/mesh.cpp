// Mesh transforms and the procedural shape builders of the synthetic-scene generator.
#include "datasets/mesh.h"

#include <cmath>

#include "core/errors.h"

namespace gs::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Cos/sin of the k-th of n steps around a circle. k is reduced modulo n so that the seam
// vertex (k = n) gets exactly the same value as k = 0: a wrapped mesh has no hairline crack.
void circle_point(int k, int n, float& c, float& s) {
  const double a = 2.0 * kPi * static_cast<double>(k % n) / n;
  c = static_cast<float>(std::cos(a));
  s = static_cast<float>(std::sin(a));
}

void push_triangle(Mesh& mesh, uint32_t a, uint32_t b, uint32_t c) {
  mesh.indices.push_back(a);
  mesh.indices.push_back(b);
  mesh.indices.push_back(c);
}

// Triangulates a (rows+1)×(cols+1) vertex grid laid out row-major starting at `base`, with
// counter-clockwise winding when rows advance along the grid's second tangent.
void grid_indices(Mesh& mesh, uint32_t base, int rows, int cols) {
  const uint32_t stride = static_cast<uint32_t>(cols + 1);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const uint32_t i00 = base + static_cast<uint32_t>(r) * stride + static_cast<uint32_t>(c);
      const uint32_t i01 = i00 + 1, i10 = i00 + stride, i11 = i10 + 1;
      push_triangle(mesh, i00, i01, i11);
      push_triangle(mesh, i00, i11, i10);
    }
  }
}

}  // namespace

Vec3 normalize(Vec3 a) {
  const float len = std::sqrt(dot(a, a));
  return len > 0 ? (1.0f / len) * a : a;
}

Mat4 Mat4::translation(Vec3 t) {
  Mat4 r;
  r.m[3] = t.x;
  r.m[7] = t.y;
  r.m[11] = t.z;
  return r;
}

Mat4 Mat4::scale(Vec3 s) {
  Mat4 r;
  r.m[0] = s.x;
  r.m[5] = s.y;
  r.m[10] = s.z;
  return r;
}

Mat4 Mat4::rotation(Vec3 axis, float radians) {
  // Rodrigues' formula in double so that composed rotations stay orthonormal to float precision.
  const Vec3 k = normalize(axis);
  const double c = std::cos(static_cast<double>(radians));
  const double s = std::sin(static_cast<double>(radians));
  const double t = 1.0 - c;
  const double x = k.x, y = k.y, z = k.z;
  const double rot[9] = {t * x * x + c,     t * x * y - s * z, t * x * z + s * y,
                         t * x * y + s * z, t * y * y + c,     t * y * z - s * x,
                         t * x * z - s * y, t * y * z + s * x, t * z * z + c};
  Mat4 r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r.m[i * 4 + j] = static_cast<float>(rot[i * 3 + j]);
  return r;
}

Mat4 operator*(const Mat4& a, const Mat4& b) {
  Mat4 r;
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      double sum = 0;
      for (int k = 0; k < 4; ++k) sum += static_cast<double>(a.m[i * 4 + k]) * b.m[k * 4 + j];
      r.m[i * 4 + j] = static_cast<float>(sum);
    }
  }
  return r;
}

Vec3 Mat4::transform_point(Vec3 p) const {
  return {m[0] * p.x + m[1] * p.y + m[2] * p.z + m[3],
          m[4] * p.x + m[5] * p.y + m[6] * p.z + m[7],
          m[8] * p.x + m[9] * p.y + m[10] * p.z + m[11]};
}

Vec3 Mat4::transform_vector(Vec3 v) const {
  return {m[0] * v.x + m[1] * v.y + m[2] * v.z, m[4] * v.x + m[5] * v.y + m[6] * v.z,
          m[8] * v.x + m[9] * v.y + m[10] * v.z};
}

Vec3 Mat4::transform_normal(Vec3 n) const {
  // The inverse transpose equals the cofactor matrix divided by the determinant; the division
  // is dropped (only the direction matters) but the sign is kept so mirrors flip normals.
  const float a = m[0], b = m[1], c = m[2], d = m[4], e = m[5], f = m[6], g = m[8], h = m[9],
              i = m[10];
  const float cof[9] = {e * i - f * h, f * g - d * i, d * h - e * g,
                        c * h - b * i, a * i - c * g, b * g - a * h,
                        b * f - c * e, c * d - a * f, a * e - b * d};
  const float det = a * cof[0] + b * cof[1] + c * cof[2];
  const float sign = det < 0 ? -1.0f : 1.0f;
  // (M⁻¹)ᵀ = cof / det, where cof[r*3+c] is the cofactor of entry (r, c).
  const Vec3 out{cof[0] * n.x + cof[1] * n.y + cof[2] * n.z,
                 cof[3] * n.x + cof[4] * n.y + cof[5] * n.z,
                 cof[6] * n.x + cof[7] * n.y + cof[8] * n.z};
  return normalize(sign * out);
}

double Mesh::surface_area(const Mat4& transform) const {
  double area = 0;
  for (size_t t = 0; t + 2 < indices.size(); t += 3) {
    const Vec3 a = transform.transform_point(vertices[indices[t]].position);
    const Vec3 b = transform.transform_point(vertices[indices[t + 1]].position);
    const Vec3 c = transform.transform_point(vertices[indices[t + 2]].position);
    const Vec3 n = cross(b - a, c - a);
    area += 0.5 * std::sqrt(static_cast<double>(dot(n, n)));
  }
  return area;
}

Mesh make_box(Vec3 size, int texture_id) {
  GS_CHECK(size.x > 0 && size.y > 0 && size.z > 0, "box sizes must be positive");
  Mesh mesh;
  mesh.texture_id = texture_id;
  const Vec3 h = 0.5f * size;
  // Each face: outward normal n, in-plane axes a (u) and b (v) with a × b = n.
  struct Face {
    Vec3 n, a, b;
  };
  const Face faces[6] = {{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}},  {{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}},
                         {{0, 1, 0}, {-1, 0, 0}, {0, 0, 1}}, {{0, -1, 0}, {1, 0, 0}, {0, 0, 1}},
                         {{0, 0, 1}, {1, 0, 0}, {0, 1, 0}},  {{0, 0, -1}, {1, 0, 0}, {0, -1, 0}}};
  auto scaled = [&](Vec3 v) { return Vec3{v.x * h.x, v.y * h.y, v.z * h.z}; };
  for (const Face& f : faces) {
    const uint32_t base = static_cast<uint32_t>(mesh.vertices.size());
    for (int j = 0; j < 2; ++j) {
      for (int i = 0; i < 2; ++i) {
        const float su = i ? 1.0f : -1.0f, sv = j ? 1.0f : -1.0f;
        MeshVertex v;
        v.position = scaled(f.n + su * f.a + sv * f.b);
        v.normal = f.n;
        v.u = static_cast<float>(i);
        v.v = static_cast<float>(j);
        mesh.vertices.push_back(v);
      }
    }
    grid_indices(mesh, base, 1, 1);
  }
  return mesh;
}

Mesh make_uv_sphere(float radius, int segments, int rings, int texture_id) {
  GS_CHECK(radius > 0 && segments >= 3 && rings >= 2, "bad sphere parameters");
  Mesh mesh;
  mesh.texture_id = texture_id;
  for (int r = 0; r <= rings; ++r) {
    // Row 0 is the south pole, so rows advance northwards and the winding faces outwards.
    const double theta = kPi * (rings - r) / rings;  // colatitude
    const float st = static_cast<float>(std::sin(theta)), ct = static_cast<float>(std::cos(theta));
    for (int s = 0; s <= segments; ++s) {
      float c, sn;
      circle_point(s, segments, c, sn);
      MeshVertex v;
      v.normal = {st * c, st * sn, ct};
      v.position = radius * v.normal;
      v.u = static_cast<float>(s) / segments;
      v.v = static_cast<float>(theta / kPi);
      mesh.vertices.push_back(v);
    }
  }
  grid_indices(mesh, 0, rings, segments);
  return mesh;
}

Mesh make_cylinder(float radius, float height, int segments, int height_segments, bool caps,
                   int texture_id) {
  GS_CHECK(radius > 0 && height > 0 && segments >= 3 && height_segments >= 1,
           "bad cylinder parameters");
  Mesh mesh;
  mesh.texture_id = texture_id;
  for (int r = 0; r <= height_segments; ++r) {
    const float z = height * static_cast<float>(r) / height_segments;
    for (int s = 0; s <= segments; ++s) {
      float c, sn;
      circle_point(s, segments, c, sn);
      MeshVertex v;
      v.normal = {c, sn, 0};
      v.position = {radius * c, radius * sn, z};
      v.u = static_cast<float>(s) / segments;
      v.v = static_cast<float>(r) / height_segments;
      mesh.vertices.push_back(v);
    }
  }
  grid_indices(mesh, 0, height_segments, segments);
  if (caps) {
    for (int top = 0; top <= 1; ++top) {
      const float z = top ? height : 0.0f;
      const Vec3 n{0, 0, top ? 1.0f : -1.0f};
      const uint32_t centre = static_cast<uint32_t>(mesh.vertices.size());
      mesh.vertices.push_back({{0, 0, z}, n, 0.5f, 0.5f});
      for (int s = 0; s < segments; ++s) {
        float c, sn;
        circle_point(s, segments, c, sn);
        mesh.vertices.push_back({{radius * c, radius * sn, z}, n, 0.5f + 0.5f * c, 0.5f + 0.5f * sn});
      }
      for (int s = 0; s < segments; ++s) {
        const uint32_t a = centre + 1 + static_cast<uint32_t>(s);
        const uint32_t b = centre + 1 + static_cast<uint32_t>((s + 1) % segments);
        if (top)
          push_triangle(mesh, centre, a, b);
        else
          push_triangle(mesh, centre, b, a);
      }
    }
  }
  return mesh;
}

Mesh make_torus(float major_radius, float minor_radius, int major_segments, int minor_segments,
                int texture_id) {
  GS_CHECK(major_radius > minor_radius && minor_radius > 0 && major_segments >= 3 &&
               minor_segments >= 3,
           "bad torus parameters");
  Mesh mesh;
  mesh.texture_id = texture_id;
  for (int j = 0; j <= minor_segments; ++j) {
    float cv, sv;
    circle_point(j, minor_segments, cv, sv);
    for (int i = 0; i <= major_segments; ++i) {
      float cu, su;
      circle_point(i, major_segments, cu, su);
      MeshVertex v;
      v.normal = {cv * cu, cv * su, sv};
      const float ring = major_radius + minor_radius * cv;
      v.position = {ring * cu, ring * su, minor_radius * sv};
      v.u = static_cast<float>(i) / major_segments;
      v.v = static_cast<float>(j) / minor_segments;
      mesh.vertices.push_back(v);
    }
  }
  grid_indices(mesh, 0, minor_segments, major_segments);
  return mesh;
}

Mesh make_disk(float radius, int segments, int rings, int texture_id) {
  GS_CHECK(radius > 0 && segments >= 3 && rings >= 1, "bad disk parameters");
  Mesh mesh;
  mesh.texture_id = texture_id;
  const Vec3 n{0, 0, 1};
  auto planar = [&](float x, float y) {
    return MeshVertex{{x, y, 0}, n, x / (2 * radius) + 0.5f, y / (2 * radius) + 0.5f};
  };
  mesh.vertices.push_back(planar(0, 0));
  // Concentric rings keep triangles small, so texture detail is not stretched by long slivers.
  for (int r = 1; r <= rings; ++r) {
    const float rr = radius * static_cast<float>(r) / rings;
    for (int s = 0; s < segments; ++s) {
      float c, sn;
      circle_point(s, segments, c, sn);
      mesh.vertices.push_back(planar(rr * c, rr * sn));
    }
  }
  auto ring_vertex = [&](int r, int s) {
    return static_cast<uint32_t>(1 + (r - 1) * segments + (s % segments));
  };
  for (int s = 0; s < segments; ++s) push_triangle(mesh, 0, ring_vertex(1, s), ring_vertex(1, s + 1));
  for (int r = 1; r < rings; ++r) {
    for (int s = 0; s < segments; ++s) {
      const uint32_t a = ring_vertex(r, s), b = ring_vertex(r, s + 1);
      const uint32_t c = ring_vertex(r + 1, s), d = ring_vertex(r + 1, s + 1);
      push_triangle(mesh, a, c, d);
      push_triangle(mesh, a, d, b);
    }
  }
  return mesh;
}

Mesh make_quad(Vec3 origin, Vec3 edge_u, Vec3 edge_v, int texture_id) {
  Mesh mesh;
  mesh.texture_id = texture_id;
  const Vec3 n = normalize(cross(edge_u, edge_v));
  mesh.vertices = {{origin, n, 0, 0},
                   {origin + edge_u, n, 1, 0},
                   {origin + edge_v, n, 0, 1},
                   {origin + edge_u + edge_v, n, 1, 1}};
  grid_indices(mesh, 0, 1, 1);
  return mesh;
}

}  // namespace gs::synth
