// An independent CPU renderer for textured triangle meshes: z-buffered rasterisation with
// perspective-correct UVs, Lambert + ambient shading from a fixed directional light, and
// ordered-grid supersampling; besides colour it returns depth and a per-pixel instance label
// (masks of generated scenes). It renders the synthetic training scenes, so it uses exactly the
// camera conventions of our Gaussian rasterizer (DESIGN.md §3): OpenCV axes, row-major
// world→camera transform, fx fy cx cy in pixels, pixel (i, j) centred at (i+0.5, j+0.5).
#pragma once

#include <cstdint>
#include <vector>

#include "datasets/mesh.h"
#include "datasets/procedural_texture.h"
#include "core/camera.h"

namespace gs::synth {

// One mesh placed in the world. The transform may be any invertible affine map (non-uniform
// scale included: normals use its inverse transpose).
struct MeshInstance {
  const Mesh* mesh = nullptr;
  Mat4 object_to_world;
  // An integer the caller attaches to every pixel this instance wins (object ids, semantic
  // classes); 0 is also what uncovered samples carry.
  int label = 0;
};

struct MeshRenderOptions {
  // Samples per pixel along each axis (1, 2 or 4): an s×s ordered grid at
  // (i + (a+0.5)/s, j + (b+0.5)/s); s = 1 samples the pixel centre only.
  int supersample = 2;
  Rgb background{1, 1, 1};                  // colour of uncovered pixels
  Vec3 light_direction{0.35f, -0.45f, 0.82f};  // world direction towards the light (normalised)
  float ambient = 0.35f;
  float diffuse = 0.75f;
  float near_plane = 0.05f;  // triangles are clipped to camera z ≥ near_plane
};

struct MeshRenderResult {
  int width = 0, height = 0;
  // H×W×4, row-major. RGB is the straight (not premultiplied) mean colour of the covered
  // samples — the background where nothing is covered — and A is the covered fraction, as in
  // NeRF-synthetic RGBA files: compositing rgb·a + bg·(1−a) gives the antialiased image.
  std::vector<float> rgba;
  // H×W mean camera-space z of the covered samples; 0 where nothing is covered.
  std::vector<float> depth;
  // H×W label of the pixel: the MeshInstance::label held by most of its s×s samples, an
  // uncovered sample counting as label 0; on a tie, the label of the first of the tied samples
  // in row-major sample order. With supersample 1 it is the label of the pixel-centre sample.
  std::vector<int32_t> label;

  // H×W×3 image composited over `background`.
  std::vector<float> rgb_over(Rgb background) const;
};

// Renders the instances with textures indexed by each mesh's texture_id. Deterministic: the
// result does not depend on the thread count (each row is computed independently, triangles
// are visited in input order and the nearer sample wins, the earlier one on exact ties).
// Throws gs::Error on invalid input (bad image size, supersample, texture id or indices).
MeshRenderResult render_meshes(const std::vector<MeshInstance>& instances,
                               const std::vector<ProceduralTexture>& textures,
                               const Camera& camera, const MeshRenderOptions& options = {});

}  // namespace gs::synth
