// The procedural street behind gsgen --kind street, shared by the generator's files
// (street_world.cpp: road, sidewalks, buildings; street_actors.cpp: ego path, vehicles, people;
// street_lidar.cpp: the roof LiDAR) and by its tests. Everything lives in a "road frame" (road
// along +x, z up, asphalt at z = 0); the writer maps poses to the world of the files with
// StreetLayout::road_to_world. Times are seconds (frames at kStreetFrameHz).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "datasets/mesh.h"
#include "datasets/mesh_renderer.h"
#include "datasets/scene_generator.h"
#include "datasets/street_generator.h"

namespace gs::synth {

constexpr double kStreetFrameHz = 10;  // Waymo's frame rate
// Renderer labels (MeshInstance::label): 0 for buildings, lamps, trees and sky, the ground
// label for what a LiDAR ground segmentation would call ground, then one label per actor.
constexpr int kGroundLabel = 1;
constexpr int kFirstActorLabel = 2;  // actor k (instance id k) renders as kFirstActorLabel + k
// drivestudio counts a box as moving (dynamic masks) above this speed.
constexpr double kMovingSpeed = 1.0;  // m/s
constexpr float kCrosswalkX = 30;     // road x of the zebra crossing a pedestrian walks over

// SplitMix64: the same numbers on every platform (std:: distributions are not), so a seed
// means the same scene everywhere.
class StreetRng {
 public:
  explicit StreetRng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  float uniform_f(double lo, double hi) { return static_cast<float>(uniform(lo, hi)); }

 private:
  uint64_t state_;
};

// The articulation of a walker at one instant: its root frame (feet at z = 0, x forward, z up)
// in the road frame and the gait angles (radians) of each side (0 left, 1 right): hip and
// shoulder swing forward when positive, the knee bends back when positive.
struct WalkerPose {
  Mat4 root_to_road;
  float hip[2], knee[2], shoulder[2];
};

// An annotated moving object (a Vehicle or a Pedestrian of instances_info.json).
struct StreetActor {
  int id = 0;           // instance id; renders with label kFirstActorLabel + id
  bool vehicle = true;  // Vehicle, else Pedestrian
  Vec3 box_size;        // length (x), width (y), height (z), metres; encloses its meshes
  double speed = 0;     // m/s along its path
  // Box frame (centre of the box, x along the length, z up) → road frame.
  std::function<Mat4(double seconds)> box_to_road;
  std::function<WalkerPose(double seconds)> walker;  // pedestrians: their articulation
};

struct StreetWorld {
  Scene scene;                      // meshes in the road frame; SceneObject::pose takes seconds
  std::vector<int> object_labels;   // per scene.objects entry: the renderer label
  std::vector<StreetActor> actors;  // vehicles first, then people; actors[k].id == k
  std::function<Mat4(double seconds)> ego_to_road;  // vehicle frame (Waymo axes) → road
  StreetLayout layout;
};

// The whole street for these options (validated by the caller). Deterministic in the seed.
StreetWorld build_street_world(const StreetGeneratorOptions& options);

// The pieces build_street_world assembles. The environment covers road x ∈ [x_min, x_max].
void add_street_environment(double x_min, double x_max, StreetRng& rng, StreetWorld& world);
void add_street_vehicles(int count, StreetRng& rng, StreetWorld& world);
void add_street_people(int count, StreetRng& rng, StreetWorld& world);
std::function<Mat4(double)> ego_path(StreetRng& rng);
double ego_speed();  // m/s, for sizing the road to the sequence

// The instances to render at `seconds`, labelled; deformed meshes live in `storage`.
std::vector<MeshInstance> street_instances(const StreetWorld& world, double seconds,
                                           std::vector<Mesh>& storage);

// ---- Sensors (street_sensors.cpp) ----

// One camera of the rig: a Waymo camera id, pinhole intrinsics at the image size, and its
// camera→vehicle pose in Waymo camera axes (x forward, y left, z up), as extrinsics/ holds it.
struct StreetCamera {
  int id = 0;
  int width = 0, height = 0;
  float fx = 0, fy = 0, cx = 0, cy = 0;
  Mat4 camera_to_vehicle;
};
StreetCamera street_camera(int id, int width, int height);

// Waymo camera axes → OpenCV camera axes, drivestudio's OPENCV2DATASET:
// camera→vehicle(OpenCV) = camera_to_vehicle · kOpenCvToWaymoCamera.
extern const Mat4 kOpenCvToWaymoCamera;

// The renderer's camera (OpenCV axes, road→camera) for `camera` on the vehicle at
// `vehicle_to_road`.
Camera street_render_camera(const StreetCamera& camera, const Mat4& vehicle_to_road);

// 8-bit RGB of a render composited over the sky: a gradient from a hazy horizon to a blue
// zenith by the elevation of each pixel's ray (road frame z is up).
std::vector<uint8_t> composite_over_sky(const MeshRenderResult& render, const Camera& camera);

// One LiDAR sweep from the roof sensor of the vehicle at `vehicle_to_road`, cast by rendering
// depth from 8 virtual pinhole cameras around the sensor (45° each, rows over −17.6° … +2.4°)
// and keeping each pixel-centre ray that hits something within kLidarMaxRange. Returns N×14
// floats in drivestudio's Waymo layout, in the vehicle frame; counts the hits of every
// renderer label into `label_hits` (grown as needed).
constexpr float kLidarMaxRange = 75;  // metres
extern const Vec3 kLidarSensorInVehicle;
std::vector<float> cast_lidar_sweep(const std::vector<MeshInstance>& instances,
                                    const std::vector<ProceduralTexture>& textures,
                                    const Mat4& vehicle_to_road, int beams, int azimuths,
                                    std::vector<int>& label_hits);

// Small helpers of the builders.
int add_texture(Scene& scene, TextureKind kind, Rgb a, Rgb b, Rgb c, int repeat_u, int repeat_v,
                StreetRng& rng);
void append_mesh(Mesh& dst, const Mesh& src, const Mat4& transform);
Mat4 rigid_inverse(const Mat4& m);

}  // namespace gs::synth
