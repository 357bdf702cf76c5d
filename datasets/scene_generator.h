// Deterministic synthetic scenes rendered by the independent mesh renderer and written as
// NeRF-synthetic / D-NeRF datasets (docs/generated_scenes.md): the embedded default scene of
// gstrain, so a fresh machine trains something real without downloading data.
//
// A scene is a list of textured meshes, each with a pose (object→world) and an optional
// non-rigid deformation as functions of time t ∈ [0, 1]; a static scene simply ignores t. The
// street-scene generator builds on the same description (road, buildings, vehicles on
// trajectories, articulated people).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "datasets/mesh.h"
#include "datasets/mesh_renderer.h"
#include "datasets/procedural_texture.h"
#include "core/camera.h"

namespace gs {

struct GeneratedSceneOptions {
  std::string kind = "static";  // static | dynamic
  int views = 64;               // training views
  int test_views = 8;           // held-out views (distinct cameras, interleaved along the path)
  int width = 128, height = 128;
  uint64_t seed = 1;
  bool white_background = true;  // RGB of fully transparent pixels (alpha carries coverage)
  int supersample = 2;           // samples per pixel axis for antialiasing: 1, 2 or 4
  int points = 4000;             // initial points sampled on the surfaces (points3d.ply)
};

// One rendered view: where it is written, its camera and its time.
struct GeneratedView {
  std::string split;      // "train" or "test"
  std::string file_path;  // as in the JSON: "./train/r_0" (relative, no extension)
  Camera camera;          // OpenCV axes, world→camera; fx = fy, principal point at the centre
  double time = 0;        // in [0, 1]; 0 for static scenes
};

// Writes the dataset into `out_dir` (created if needed; files of an earlier run are
// overwritten): transforms_train.json, transforms_test.json, train/r_*.png, test/r_*.png
// (RGBA, straight colour, alpha = coverage) and points3d.ply. Same options → byte-identical
// files. Throws gs::ConfigError for invalid options and gs::IoError when writing fails.
void generate_scene(const std::string& out_dir, const GeneratedSceneOptions& options);

// The views generate_scene renders, in JSON order (train first, then test). The cameras are
// exactly those a loader obtains from the JSON by flipping the y and z axes of the Blender
// camera frame and inverting the rigid transform with gs::set_camera_to_world.
std::vector<GeneratedView> generated_views(const GeneratedSceneOptions& options);

// Throws gs::ConfigError naming the offending option.
void validate_generated_scene_options(const GeneratedSceneOptions& options);

namespace synth {

// A mesh in its object frame, placed and (optionally) deformed as a function of time.
struct SceneObject {
  std::string name;
  Mesh mesh;
  std::function<Mat4(double t)> pose;                     // object→world; empty = identity
  std::function<void(double t, Mesh& mesh)> deform;       // edits a copy of `mesh`; may be empty
};

struct Scene {
  std::vector<ProceduralTexture> textures;
  std::vector<SceneObject> objects;
  Vec3 look_at{0, 0, 0};  // where the cameras aim
  float radius = 1;       // bounding radius of the content around look_at
};

// The built-in scenes (world z up, content within ~1 unit of the origin on a ground disk).
// kind "static": fixed objects; "dynamic": the same objects moving, plus deforming ones.
Scene build_scene(const std::string& kind, uint64_t seed);

// The meshes of `scene` at time t. Deformed meshes are stored in `storage`, which must outlive
// the returned instances.
std::vector<MeshInstance> scene_instances(const Scene& scene, double t, std::vector<Mesh>& storage);

// Convention conversions between our OpenCV world→camera transform and the Blender/OpenGL
// camera→world matrix of NeRF JSON files (camera x right, y up, z back). Row-major 4×4.
std::array<float, 16> blender_c2w_from_camera(const Camera& camera);
void set_camera_from_blender_c2w(Camera& camera, const std::array<float, 16>& c2w);

}  // namespace synth
}  // namespace gs
