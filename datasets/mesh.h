// Triangle meshes for the synthetic-scene generator: per-vertex position, normal and UV, a
// procedural texture id, affine transforms, and builders for simple textured shapes. This is
// deliberately independent of the Gaussian rasterizer: generated images must come from a
// different image-formation model than the one being trained.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gs::synth {

struct Vec3 {
  float x = 0, y = 0, z = 0;
};
inline Vec3 operator+(Vec3 a, Vec3 b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
inline Vec3 operator-(Vec3 a, Vec3 b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
inline Vec3 operator*(float s, Vec3 a) { return {s * a.x, s * a.y, s * a.z}; }
inline float dot(Vec3 a, Vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
inline Vec3 cross(Vec3 a, Vec3 b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
Vec3 normalize(Vec3 a);  // returns a unchanged when it has zero length

// Row-major 4×4 affine transform (the last row is 0 0 0 1), applied to column vectors.
struct Mat4 {
  float m[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};

  static Mat4 identity() { return {}; }
  static Mat4 translation(Vec3 t);
  static Mat4 scale(Vec3 s);
  // Rotation by `radians` about a unit `axis` (right-handed).
  static Mat4 rotation(Vec3 axis, float radians);

  Vec3 transform_point(Vec3 p) const;
  Vec3 transform_vector(Vec3 v) const;  // ignores the translation
  // Maps an object-space normal to world space with the inverse transpose of the linear part
  // (so non-uniform scale keeps normals perpendicular), normalised.
  Vec3 transform_normal(Vec3 n) const;
};
Mat4 operator*(const Mat4& a, const Mat4& b);

struct MeshVertex {
  Vec3 position;
  Vec3 normal;  // unit, outward
  float u = 0, v = 0;
};

// An indexed triangle mesh. `texture_id` indexes the texture table passed to the renderer.
struct Mesh {
  std::vector<MeshVertex> vertices;
  std::vector<uint32_t> indices;  // 3 per triangle
  int texture_id = 0;

  size_t triangle_count() const { return indices.size() / 3; }
  // Sum of triangle areas after `transform` (used for area-weighted point sampling).
  double surface_area(const Mat4& transform = Mat4{}) const;
};

// Builders. Every shape is in its own object frame with +z up; UVs are in [0, 1] and wrap
// seamlessly around closed directions (seam vertices are duplicated with u = 0 and u = 1 but
// share bit-identical positions and normals).

// Axis-aligned box centred at the origin; each face has its own vertices (flat normals) and the
// full [0, 1]² UV square.
Mesh make_box(Vec3 size, int texture_id);
// UV sphere centred at the origin, poles on ±z; u = longitude / 2π, v = colatitude / π.
Mesh make_uv_sphere(float radius, int segments, int rings, int texture_id);
// Cylinder around +z from z = 0 to z = height (so bending about its base is natural), with
// `height_segments` rings along the axis and optional flat caps (planar UVs).
Mesh make_cylinder(float radius, float height, int segments, int height_segments, bool caps,
                   int texture_id);
// Torus centred at the origin in the xy-plane (axis +z); u around the ring, v around the tube.
Mesh make_torus(float major_radius, float minor_radius, int major_segments, int minor_segments,
                int texture_id);
// Flat disk in the z = 0 plane facing +z, centred at the origin, with planar UVs
// u = x / (2r) + 1/2, v = y / (2r) + 1/2.
Mesh make_disk(float radius, int segments, int rings, int texture_id);
// One quad (two triangles) with corners origin, origin + edge_u, origin + edge_u + edge_v,
// origin + edge_v; UV (0,0)…(1,1) along the edges; normal = normalize(edge_u × edge_v).
Mesh make_quad(Vec3 origin, Vec3 edge_u, Vec3 edge_v, int texture_id);

}  // namespace gs::synth
