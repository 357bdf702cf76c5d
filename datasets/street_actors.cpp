// What moves in the street: the ego vehicle's path, cars driving along the lanes (a body, a
// glazed cabin, wheels and lights, rigid in their box frame) and articulated pedestrians (torso,
// head, arms, thighs, shins and feet turning at shoulders, hips and knees with a walking gait).
// Every actor's meshes lie inside its annotated box at all times (tested), as the rigid and
// skeleton nodes of the trainer assume.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "datasets/street_builder.h"

namespace gs::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr float kEgoLaneY = -1.75f;  // the inner lane of the +x carriageway (right-hand traffic)

Mat4 pose_2d(double x, double y, double z, double yaw) {
  return Mat4::translation({static_cast<float>(x), static_cast<float>(y), static_cast<float>(z)}) *
         Mat4::rotation({0, 0, 1}, static_cast<float>(yaw));
}

// Meshes of one actor in its box frame, merged per texture, each following the box pose.
void add_rigid_actor(StreetWorld& world, const StreetActor& actor, std::map<int, Mesh>& parts) {
  for (auto& [texture, mesh] : parts) {
    mesh.texture_id = texture;
    world.scene.objects.push_back(
        {actor.vehicle ? "vehicle" : "pedestrian", std::move(mesh), actor.box_to_road, nullptr});
    world.object_labels.push_back(kFirstActorLabel + actor.id);
  }
}

// ---- Vehicles ----

struct VehicleShape {
  float length, width, height;
  float body_height;   // the painted lower body, above the ground clearance
  float cabin_length;  // fraction of the length
  float cabin_offset;  // cabin centre along x, fraction of the length (negative: towards the back)
  float wheel_radius;
};

// A car-like vehicle in its box frame (centre of the box, x forward, z up; the ground is at
// z = −height/2).
std::map<int, Mesh> vehicle_parts(const VehicleShape& v, int paint, int glass, int tyre,
                                  int headlight, int taillight) {
  std::map<int, Mesh> parts;
  const float ground = -v.height / 2, clearance = 0.28f;
  const float body_top = ground + clearance + v.body_height;
  append_mesh(parts[paint], make_box({v.length, v.width, v.body_height}, paint),
              Mat4::translation({0, 0, ground + clearance + v.body_height / 2}));
  const float cabin_height = v.height / 2 - body_top;
  append_mesh(parts[glass],
              make_box({v.cabin_length * v.length, v.width - 0.14f, cabin_height}, glass),
              Mat4::translation({v.cabin_offset * v.length, 0, body_top + cabin_height / 2}));
  const Mesh wheel = make_cylinder(v.wheel_radius, 0.24f, 16, 1, true, tyre);
  const Mat4 axle_along_y = Mat4::rotation({1, 0, 0}, static_cast<float>(-kPi / 2));  // +z → +y
  const float wheel_x = v.length / 2 - 0.85f, wheel_z = ground + v.wheel_radius;
  for (float x : {wheel_x, -wheel_x}) {
    append_mesh(parts[tyre], wheel,
                Mat4::translation({x, v.width / 2 - 0.26f, wheel_z}) * axle_along_y);
    append_mesh(parts[tyre], wheel,
                Mat4::translation({x, -v.width / 2 + 0.02f, wheel_z}) * axle_along_y);
  }
  for (float y : {v.width / 2 - 0.3f, -(v.width / 2 - 0.3f)}) {
    append_mesh(parts[headlight], make_box({0.06f, 0.34f, 0.14f}, headlight),
                Mat4::translation({v.length / 2 - 0.03f, y, body_top - 0.2f}));
    append_mesh(parts[taillight], make_box({0.06f, 0.30f, 0.12f}, taillight),
                Mat4::translation({-v.length / 2 + 0.03f, y, body_top - 0.2f}));
  }
  return parts;
}

// Where each vehicle drives: lane centre y, start x, signed speed along x (0 = parked).
struct VehicleSlot {
  float lane_y, x0, speed;
  bool van;
};
// Chosen so the front cameras see every vehicle: one ahead in the ego lane, one overtaking on
// the right, one oncoming (from beyond the LiDAR's range, so it is annotated only from its
// frame ~8), one stopped on the far side, a slow van ahead on the right.
constexpr VehicleSlot kVehicleSlots[5] = {{kEgoLaneY, 16, 8.5f, false},
                                          {-5.25f, -6, 11, false},
                                          {1.75f, 90, -10, false},
                                          {5.25f, 38, 0, false},
                                          {-5.25f, 45, 5, true}};

}  // namespace

double ego_speed() {
  return 8.0;
}

std::function<Mat4(double)> ego_path(StreetRng& rng) {
  // A gentle sway within the lane, so the ego yaw changes along the sequence.
  const double phase = rng.uniform(0, 2 * kPi), sway = 0.25, omega = 0.5;
  return [=](double t) {
    const double y = kEgoLaneY + sway * std::sin(omega * t + phase);
    const double dy = sway * omega * std::cos(omega * t + phase);
    return pose_2d(ego_speed() * t, y, 0, std::atan2(dy, ego_speed()));
  };
}

void add_street_vehicles(int count, StreetRng& rng, StreetWorld& world) {
  const Rgb paints[7] = {{0.92f, 0.92f, 0.90f}, {0.62f, 0.64f, 0.66f}, {0.10f, 0.10f, 0.12f},
                         {0.70f, 0.10f, 0.10f}, {0.12f, 0.25f, 0.60f}, {0.15f, 0.35f, 0.20f},
                         {0.95f, 0.75f, 0.12f}};
  Scene& s = world.scene;
  const int tyre = add_texture(s, TextureKind::checker, {0.08f, 0.08f, 0.08f},
                               {0.30f, 0.30f, 0.31f}, {}, 8, 1, rng);
  const int headlight = add_texture(s, TextureKind::solid, {1.0f, 0.97f, 0.85f}, {}, {}, 1, 1, rng);
  const int taillight =
      add_texture(s, TextureKind::solid, {0.80f, 0.08f, 0.06f}, {}, {}, 1, 1, rng);
  for (int k = 0; k < count; ++k) {
    const VehicleSlot& slot = kVehicleSlots[k];
    const Rgb c = paints[rng.next() % 7];
    const int paint = add_texture(
        s, TextureKind::marble, c, {c.r * 0.8f, c.g * 0.8f, c.b * 0.8f},
        {std::min(1.0f, c.r + 0.12f), std::min(1.0f, c.g + 0.12f), std::min(1.0f, c.b + 0.12f)}, 1,
        1, rng);
    const int glass = add_texture(s, TextureKind::tiles, {0.12f, 0.15f, 0.20f},
                                  {0.20f, 0.25f, 0.32f}, c, 3, 1, rng);
    VehicleShape shape;
    if (slot.van) {
      shape = {
          rng.uniform_f(5.4, 5.9), 2.05f, rng.uniform_f(2.2, 2.4), 1.15f, 0.78f, -0.08f, 0.38f};
    } else {
      shape = {rng.uniform_f(4.2, 4.8),
               rng.uniform_f(1.8, 1.95),
               rng.uniform_f(1.45, 1.6),
               0.72f,
               rng.uniform_f(0.5, 0.58),
               -0.06f,
               0.34f};
    }
    StreetActor actor;
    actor.id = k;
    actor.vehicle = true;
    actor.box_size = {shape.length, shape.width, shape.height};
    const double x0 = slot.x0 + rng.uniform(-2, 2);
    const double v = slot.speed * rng.uniform(0.9, 1.1);
    actor.speed = std::abs(v);
    const double yaw = slot.speed < 0 ? kPi : 0, y = slot.lane_y, z = shape.height / 2;
    actor.box_to_road = [=](double t) { return pose_2d(x0 + v * t, y, z, yaw); };
    std::map<int, Mesh> parts = vehicle_parts(shape, paint, glass, tyre, headlight, taillight);
    add_rigid_actor(world, actor, parts);
    world.actors.push_back(actor);
  }
}

// ---- Pedestrians ----

namespace {

// A walk along a polyline at constant speed, continuing along the last segment at its end.
struct WalkPath {
  std::vector<std::array<double, 2>> points;
  double speed = 1.3;

  // Position and heading after `seconds`.
  void at(double seconds, double& x, double& y, double& heading) const {
    double s = speed * seconds;
    for (size_t k = 0; k + 1 < points.size(); ++k) {
      const double dx = points[k + 1][0] - points[k][0], dy = points[k + 1][1] - points[k][1];
      const double len = std::hypot(dx, dy);
      if (s <= len || k + 2 == points.size()) {
        x = points[k][0] + dx / len * s;
        y = points[k][1] + dy / len * s;
        heading = std::atan2(dy, dx);
        return;
      }
      s -= len;
    }
  }
};

// Body proportions (metres) of the procedural walker; the feet are at z = 0 of its root frame.
// The feet clear the ground by 3 cm when the leg is straight, so no gait angle pushes a toe
// below the box.
constexpr float kHipHeight = 0.88f, kThigh = 0.41f, kShin = 0.38f, kFootHeight = 0.06f;
constexpr float kShoulderHeight = 1.40f, kArm = 0.62f, kHipHalfWidth = 0.10f,
                kShoulderHalfWidth = 0.25f;
constexpr float kStride = 1.3f;  // metres per gait cycle (two steps)
constexpr float kPersonBox[3] = {1.0f, 0.8f, 1.8f};

struct Gait {
  float hip[2], knee[2], shoulder[2];  // radians; hip and shoulder > 0 swing forward
};

Gait gait_at(double distance, double phase0) {
  const double phi = 2 * kPi * distance / kStride + phase0;
  Gait g;
  for (int side = 0; side < 2; ++side) {
    const double p = phi + side * kPi;  // the legs are half a cycle apart
    g.hip[side] = static_cast<float>(0.42 * std::sin(p));
    // The knee bends while the leg swings forward (hip angle rising).
    g.knee[side] = static_cast<float>(0.08 + 0.5 * std::max(0.0, std::cos(p)));
    g.shoulder[side] = static_cast<float>(-0.35 * std::sin(p));  // arms against the legs
  }
  return g;
}

// Rotation about the root's y axis that swings a downward limb forward (+x) by `angle`.
Mat4 swing(float angle) {
  return Mat4::rotation({0, 1, 0}, -angle);
}
const Mat4 kDown = Mat4::rotation({1, 0, 0}, static_cast<float>(kPi));  // a +z cylinder hangs down

}  // namespace

void add_street_people(int count, StreetRng& rng, StreetWorld& world) {
  const StreetLayout& L = world.layout;
  const float walk_y = L.road_half_width + 2.0f;
  // One walks along the right sidewalk, one crosses at the zebra and then walks on, one walks
  // towards the ego on the left sidewalk.
  const WalkPath paths[3] = {
      {{{22 + rng.uniform(-2, 2), -walk_y}, {1000, -walk_y}}, 1.4 * rng.uniform(0.9, 1.1)},
      {{{kCrosswalkX, walk_y + 1}, {kCrosswalkX, -walk_y - 0.5}, {1000, -walk_y - 0.5}},
       1.3 * rng.uniform(0.9, 1.1)},
      {{{40 + rng.uniform(-2, 2), walk_y + 0.3}, {-1000, walk_y + 0.3}},
       1.2 * rng.uniform(0.9, 1.1)}};
  const Rgb shirts[5] = {{0.75f, 0.20f, 0.20f},
                         {0.20f, 0.40f, 0.75f},
                         {0.90f, 0.85f, 0.30f},
                         {0.25f, 0.60f, 0.35f},
                         {0.85f, 0.85f, 0.85f}};
  const Rgb trousers[3] = {{0.15f, 0.20f, 0.38f}, {0.12f, 0.12f, 0.13f}, {0.55f, 0.48f, 0.33f}};
  const Rgb skins[3] = {{0.90f, 0.72f, 0.58f}, {0.70f, 0.50f, 0.36f}, {0.42f, 0.28f, 0.20f}};
  const Rgb hairs[3] = {{0.10f, 0.08f, 0.06f}, {0.35f, 0.22f, 0.12f}, {0.80f, 0.68f, 0.40f}};
  Scene& s = world.scene;
  const int first_id = static_cast<int>(world.actors.size());
  for (int k = 0; k < count; ++k) {
    const Rgb shirt_colour = shirts[rng.next() % 5];
    const int shirt =
        add_texture(s, TextureKind::stripes, shirt_colour,
                    {shirt_colour.r * 0.7f, shirt_colour.g * 0.7f, shirt_colour.b * 0.7f},
                    {0.95f, 0.95f, 0.95f}, 1, 3, rng);
    const Rgb trouser_colour = trousers[rng.next() % 3];
    const int legs = add_texture(
        s, TextureKind::marble, trouser_colour,
        {trouser_colour.r * 0.7f, trouser_colour.g * 0.7f, trouser_colour.b * 0.7f},
        {trouser_colour.r * 1.2f, trouser_colour.g * 1.2f, trouser_colour.b * 1.2f}, 2, 1, rng);
    const int skin = add_texture(s, TextureKind::solid, skins[rng.next() % 3], {}, {}, 1, 1, rng);
    const int hair = add_texture(s, TextureKind::marble, hairs[rng.next() % 3],
                                 {0.05f, 0.04f, 0.03f}, hairs[0], 3, 1, rng);
    const int shoes = add_texture(s, TextureKind::solid, {0.08f, 0.07f, 0.07f}, {}, {}, 1, 1, rng);

    const WalkPath path = paths[k];
    const double phase0 = rng.uniform(0, 2 * kPi);
    // The feet follow the ground: the sidewalk, or the road when crossing (a short ramp at the
    // curb instead of a jump).
    auto root_at = [path, L](double t) {
      double x = 0, y = 0, heading = 0;
      path.at(t, x, y, heading);
      const double ramp = std::clamp((std::abs(y) - L.road_half_width + 0.15) / 0.3, 0.0, 1.0);
      return pose_2d(x, y, ramp * L.curb_height, heading);
    };
    StreetActor actor;
    actor.id = first_id + k;
    actor.vehicle = false;
    actor.box_size = {kPersonBox[0], kPersonBox[1], kPersonBox[2]};
    actor.speed = path.speed;
    actor.box_to_road = [root_at](double t) {
      return root_at(t) * Mat4::translation({0, 0, kPersonBox[2] / 2});
    };
    actor.walker = [root_at, speed = path.speed, phase0](double t) {
      const Gait g = gait_at(speed * t, phase0);
      WalkerPose p;
      p.root_to_road = root_at(t);
      for (int side = 0; side < 2; ++side) {
        p.hip[side] = g.hip[side];
        p.knee[side] = g.knee[side];
        p.shoulder[side] = g.shoulder[side];
      }
      return p;
    };
    const int label = kFirstActorLabel + actor.id;
    auto part = [&](const char* name, Mesh mesh, std::function<Mat4(double)> pose) {
      world.scene.objects.push_back({name, std::move(mesh), std::move(pose), nullptr});
      world.object_labels.push_back(label);
    };
    const double speed = path.speed;
    part(
        "torso",
        make_box({0.24f, 2 * kShoulderHalfWidth - 0.1f, kShoulderHeight + 0.04f - kHipHeight},
                 shirt),
        [=](double t) {
          return root_at(t) * Mat4::translation({0, 0, (kShoulderHeight + 0.04f + kHipHeight) / 2});
        });
    part("head", make_uv_sphere(0.12f, 16, 10, skin), [=](double t) {
      return root_at(t) * Mat4::translation({0.01f, 0, 1.58f});
    });
    part("hair", make_uv_sphere(0.125f, 16, 10, hair), [=](double t) {
      return root_at(t) * Mat4::translation({-0.02f, 0, 1.61f}) * Mat4::scale({1, 1, 0.8f});
    });
    for (int side = 0; side < 2; ++side) {
      const float y_sign = side == 0 ? 1.0f : -1.0f;
      const Vec3 hip{0, y_sign * kHipHalfWidth, kHipHeight};
      const Vec3 shoulder{0, y_sign * (kShoulderHalfWidth + 0.02f), kShoulderHeight};
      auto thigh_frame = [=](double t) {
        return root_at(t) * Mat4::translation(hip) * swing(gait_at(speed * t, phase0).hip[side]);
      };
      auto shin_frame = [=](double t) {
        return thigh_frame(t) * Mat4::translation({0, 0, -kThigh}) *
               swing(-gait_at(speed * t, phase0).knee[side]);
      };
      part("arm", make_cylinder(0.05f, kArm, 8, 1, true, shirt), [=](double t) {
        return root_at(t) * Mat4::translation(shoulder) *
               swing(gait_at(speed * t, phase0).shoulder[side]) * kDown;
      });
      part("thigh", make_cylinder(0.075f, kThigh, 8, 1, true, legs),
           [=](double t) { return thigh_frame(t) * kDown; });
      part("shin", make_cylinder(0.06f, kShin, 8, 1, true, legs),
           [=](double t) { return shin_frame(t) * kDown; });
      part("foot", make_box({0.22f, 0.09f, kFootHeight}, shoes), [=](double t) {
        return shin_frame(t) * Mat4::translation({0.04f, 0, -kShin - kFootHeight / 2});
      });
    }
    world.actors.push_back(actor);
  }
}

}  // namespace gs::synth
