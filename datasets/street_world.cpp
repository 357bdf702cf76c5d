// The static street: asphalt with lane markings and a zebra crossing, raised sidewalks, grass
// verges, buildings with windows and shopfronts, street lamps and trees; plus the assembly of
// the whole world (build_street_world) and the helpers the builders share. Static geometry is
// merged into one mesh per texture: the renderer then sets up a few dozen objects, not
// thousands, and the world is the same however it is drawn.
#include <algorithm>
#include <cmath>
#include <map>

#include "datasets/street_builder.h"

namespace gs::synth {
namespace {

constexpr float kPi = 3.14159265358979f;
constexpr float kMarkingLift = 0.01f;  // paint above the asphalt: no z-fighting at any distance
constexpr float kFacadeLift = 0.03f;   // window frames in front of the wall, glass in front of them
constexpr float kVergeWidth = 60;      // grass beyond the sidewalks, so the ground meets the sky
                                       // far away rather than just behind the buildings

// Static geometry collected per texture, then emitted as one scene object per texture.
class StaticBatches {
 public:
  void add(int texture, const Mesh& mesh, const Mat4& at = Mat4{}) {
    Mesh& batch = batches_[texture];
    batch.texture_id = texture;
    append_mesh(batch, mesh, at);
  }
  // A flat quad (normal edge_u × edge_v).
  void quad(int texture, Vec3 origin, Vec3 edge_u, Vec3 edge_v) {
    add(texture, make_quad(origin, edge_u, edge_v, texture));
  }
  void emit(StreetWorld& world, const std::vector<int>& ground_textures) {
    for (auto& [texture, mesh] : batches_) {  // std::map: texture order, deterministic
      const bool ground = std::find(ground_textures.begin(), ground_textures.end(), texture) !=
                          ground_textures.end();
      world.scene.objects.push_back({"static", std::move(mesh), nullptr, nullptr});
      world.object_labels.push_back(ground ? kGroundLabel : 0);
    }
    batches_.clear();
  }

 private:
  std::map<int, Mesh> batches_;
};

struct GroundTextures {
  int asphalt, white_paint, yellow_paint, slabs, curb, grass;
};

GroundTextures make_ground_textures(Scene& s, StreetRng& rng) {
  GroundTextures t;
  // Asphalt: dark grey with fine turbulence and lighter aggregate; 2 periods per 3.5 m tile.
  t.asphalt = add_texture(s, TextureKind::marble, {0.25f, 0.25f, 0.26f}, {0.17f, 0.17f, 0.18f},
                          {0.34f, 0.33f, 0.32f}, 2, 2, rng);
  t.white_paint = add_texture(s, TextureKind::marble, {0.88f, 0.88f, 0.85f}, {0.70f, 0.70f, 0.68f},
                              {0.95f, 0.95f, 0.93f}, 1, 4, rng);
  t.yellow_paint = add_texture(s, TextureKind::marble, {0.90f, 0.72f, 0.18f}, {0.70f, 0.55f, 0.14f},
                               {0.96f, 0.80f, 0.30f}, 1, 4, rng);
  // Paving slabs of 1 m on a 4 m tile.
  t.slabs = add_texture(s, TextureKind::tiles, {0.62f, 0.60f, 0.57f}, {0.55f, 0.54f, 0.52f},
                        {0.38f, 0.37f, 0.36f}, 4, 4, rng);
  t.curb = add_texture(s, TextureKind::tiles, {0.70f, 0.70f, 0.68f}, {0.66f, 0.66f, 0.64f},
                       {0.45f, 0.45f, 0.44f}, 4, 1, rng);
  t.grass = add_texture(s, TextureKind::marble, {0.30f, 0.46f, 0.18f}, {0.20f, 0.34f, 0.12f},
                        {0.46f, 0.56f, 0.26f}, 6, 6, rng);
  return t;
}

void add_road(double x_min, double x_max, const StreetLayout& L, const GroundTextures& t,
              StaticBatches& b) {
  const float lane = L.road_half_width / 2;  // two lanes each way
  for (float x = static_cast<float>(x_min); x < static_cast<float>(x_max); x += lane)
    for (int k = -2; k < 2; ++k) b.quad(t.asphalt, {x, k * lane, 0}, {lane, 0, 0}, {0, lane, 0});

  const float z = kMarkingLift;
  auto stripe = [&](int tex, float x0, float length, float y_centre, float width) {
    b.quad(tex, {x0, y_centre - width / 2, z}, {length, 0, 0}, {0, width, 0});
  };
  for (float x = static_cast<float>(x_min); x < static_cast<float>(x_max); x += 10) {
    stripe(t.yellow_paint, x, 10, -0.12f, 0.12f);  // double centre line
    stripe(t.yellow_paint, x, 10, 0.12f, 0.12f);
    stripe(t.white_paint, x, 10, -(L.road_half_width - 0.3f), 0.15f);  // edge lines
    stripe(t.white_paint, x, 10, L.road_half_width - 0.3f, 0.15f);
  }
  for (float x = static_cast<float>(x_min); x < static_cast<float>(x_max); x += 9) {
    stripe(t.white_paint, x, 3, -lane, 0.15f);  // lane dashes: 3 m paint, 6 m gap
    stripe(t.white_paint, x, 3, lane, 0.15f);
  }
  // The zebra crossing the crossing pedestrian uses.
  for (float y = -L.road_half_width + 0.6f; y < L.road_half_width - 0.6f; y += 1.0f)
    b.quad(t.white_paint, {kCrosswalkX - 1.5f, y, z + 0.001f}, {3, 0, 0}, {0, 0.5f, 0});
}

void add_sidewalks_and_verges(double x_min, double x_max, const StreetLayout& L,
                              const GroundTextures& t, StaticBatches& b) {
  const float h = L.curb_height, inner = L.road_half_width, outer = inner + L.sidewalk_width;
  for (float x = static_cast<float>(x_min); x < static_cast<float>(x_max); x += 4) {
    b.quad(t.slabs, {x, inner, h}, {4, 0, 0}, {0, L.sidewalk_width, 0});
    b.quad(t.slabs, {x, -outer, h}, {4, 0, 0}, {0, L.sidewalk_width, 0});
    b.quad(t.curb, {x, inner, 0}, {4, 0, 0}, {0, 0, h});  // curb faces, towards the road
    b.quad(t.curb, {x + 4, -inner, 0}, {-4, 0, 0}, {0, 0, h});
  }
  const float tile = 20;
  for (float x = static_cast<float>(x_min); x < static_cast<float>(x_max); x += tile)
    for (float y = outer; y < outer + kVergeWidth; y += tile) {
      b.quad(t.grass, {x, y, h}, {tile, 0, 0}, {0, tile, 0});
      b.quad(t.grass, {x, -y - tile, h}, {tile, 0, 0}, {0, tile, 0});
    }
}

// One building on the lot [x0, x0 + width] on the side `side` (+1 left of the road, −1 right):
// a textured block with framed windows on the road-facing facade and, sometimes, a shopfront.
void add_building(float x0, float width, int side, const StreetLayout& L, Scene& scene,
                  StaticBatches& b, StreetRng& rng) {
  const float setback = rng.uniform_f(0.3, 2.0), depth = rng.uniform_f(10, 16);
  const int floors = 2 + static_cast<int>(rng.uniform() * 6);
  const float floor_height = 3.2f, height = floors * floor_height + 0.6f;
  const float front = L.road_half_width + L.sidewalk_width + setback;  // |y| of the facade
  const float base = L.curb_height;

  // Facade styles: brick, stone panels, painted render. Repeats keep ~1 m features.
  const Rgb brick_colours[3] = {
      {0.62f, 0.28f, 0.18f}, {0.72f, 0.55f, 0.35f}, {0.45f, 0.30f, 0.25f}};
  const Rgb render_colours[4] = {
      {0.85f, 0.80f, 0.66f}, {0.70f, 0.78f, 0.80f}, {0.86f, 0.68f, 0.60f}, {0.78f, 0.80f, 0.70f}};
  const int style = static_cast<int>(rng.uniform() * 3);
  const int ru = std::max(1, static_cast<int>(std::lround(width / 1.2f)));
  const int rv = std::max(1, static_cast<int>(std::lround(height / 0.6f)));
  int wall;
  if (style == 0) {
    wall = add_texture(scene, TextureKind::brick, brick_colours[rng.next() % 3],
                       {0.80f, 0.78f, 0.72f}, {}, ru, rv, rng);
  } else if (style == 1) {
    const Rgb stone = render_colours[rng.next() % 4];
    wall = add_texture(scene, TextureKind::tiles, stone,
                       {stone.r * 0.9f, stone.g * 0.9f, stone.b * 0.9f}, {0.45f, 0.44f, 0.42f}, ru,
                       std::max(1, rv / 3), rng);
  } else {
    const Rgb paint = render_colours[rng.next() % 4];
    wall = add_texture(scene, TextureKind::marble, paint,
                       {paint.r * 0.8f, paint.g * 0.8f, paint.b * 0.8f}, {1, 1, 0.95f}, 2, 2, rng);
  }
  const float yc = side * (front + depth / 2);
  b.add(wall, make_box({width, depth, height}, wall),
        Mat4::translation({x0 + width / 2, yc, base + height / 2}));

  const int frame =
      add_texture(scene, TextureKind::solid, {0.92f, 0.92f, 0.90f}, {}, {}, 1, 1, rng);
  const int glass = add_texture(scene, TextureKind::stripes, {0.22f, 0.28f, 0.36f},
                                {0.35f, 0.45f, 0.55f}, {0.60f, 0.70f, 0.78f}, 1, 1, rng);
  // A facade quad at `lift` in front of the wall, seen from the road: u along +x on the left
  // side, −x on the right (so the quad's normal points at the road).
  auto facade_quad = [&](int tex, float x, float z, float w, float h, float lift) {
    const float y = side * (front - lift);
    if (side > 0)
      b.quad(tex, {x, y, base + z}, {w, 0, 0}, {0, 0, h});
    else
      b.quad(tex, {x + w, y, base + z}, {-w, 0, 0}, {0, 0, h});
  };
  const int columns = std::max(1, static_cast<int>(width / 3.0f));
  const float pitch = width / columns;
  int first_floor = 0;
  if (rng.uniform() < 0.5) {  // a shopfront with an awning over the ground floor
    const int shop = add_texture(scene, TextureKind::stripes, {0.18f, 0.20f, 0.24f},
                                 {0.40f, 0.42f, 0.40f}, {0.75f, 0.72f, 0.60f}, 2, 1, rng);
    facade_quad(frame, x0 + 0.5f, 0.2f, width - 1.0f, 2.8f, kFacadeLift);
    facade_quad(shop, x0 + 0.7f, 0.3f, width - 1.4f, 2.5f, 2 * kFacadeLift);
    const Rgb awning_colours[3] = {
        {0.75f, 0.15f, 0.12f}, {0.15f, 0.45f, 0.30f}, {0.20f, 0.30f, 0.65f}};
    const int awning = add_texture(scene, TextureKind::stripes, awning_colours[rng.next() % 3],
                                   {0.95f, 0.93f, 0.88f}, awning_colours[0], 6, 1, rng);
    b.add(awning, make_box({width - 1.0f, 1.2f, 0.15f}, awning),
          Mat4::translation({x0 + width / 2, side * (front - 0.6f), base + 3.3f}));
    first_floor = 1;
  }
  for (int f = first_floor; f < floors; ++f)
    for (int c = 0; c < columns; ++c) {
      const float x = x0 + c * pitch + (pitch - 1.6f) / 2, z = f * floor_height + 0.8f;
      facade_quad(frame, x, z, 1.6f, 1.9f, kFacadeLift);
      facade_quad(glass, x + 0.12f, z + 0.12f, 1.36f, 1.66f, 2 * kFacadeLift);
    }
}

void add_buildings(double x_min, double x_max, const StreetLayout& L, Scene& scene,
                   StaticBatches& b, StreetRng& rng) {
  for (int side : {+1, -1}) {
    float x = static_cast<float>(x_min);
    while (x < x_max) {
      const float width = rng.uniform_f(9, 20);
      add_building(x, width, side, L, scene, b, rng);
      x += width + (rng.uniform() < 0.4 ? 0.0f : rng.uniform_f(1, 4));
    }
  }
}

// Street lamps at the curb and trees at the back of the sidewalks, alternating every 12 m.
void add_lamps_and_trees(double x_min, double x_max, const StreetLayout& L, Scene& scene,
                         StaticBatches& b, StreetRng& rng) {
  const int metal = add_texture(scene, TextureKind::marble, {0.30f, 0.32f, 0.33f},
                                {0.22f, 0.23f, 0.24f}, {0.45f, 0.47f, 0.48f}, 1, 3, rng);
  const int lamp = add_texture(scene, TextureKind::solid, {0.95f, 0.93f, 0.80f}, {}, {}, 1, 1, rng);
  const int bark = add_texture(scene, TextureKind::marble, {0.36f, 0.26f, 0.18f},
                               {0.22f, 0.15f, 0.10f}, {0.45f, 0.35f, 0.25f}, 4, 2, rng);
  const int leaves = add_texture(scene, TextureKind::dots, {0.16f, 0.36f, 0.12f},
                                 {0.28f, 0.50f, 0.16f}, {0.10f, 0.24f, 0.08f}, 14, 7, rng);
  const float h = L.curb_height;
  const Mesh pole = make_cylinder(0.09f, 6.5f, 10, 1, true, metal);
  const Mesh trunk = make_cylinder(0.16f, 3.0f, 10, 1, true, bark);
  const Mesh crown = make_uv_sphere(1.0f, 14, 8, leaves);
  int k = 0;
  for (float x = static_cast<float>(x_min) + 6; x < x_max; x += 12, ++k) {
    for (int side : {+1, -1}) {
      if ((k + (side > 0 ? 0 : 1)) % 2 == 0) {
        const float y = side * (L.road_half_width + 0.5f);
        b.add(metal, pole, Mat4::translation({x, y, h}));
        b.add(metal, make_box({0.08f, 1.6f, 0.08f}, metal),
              Mat4::translation({x, y - side * 0.8f, h + 6.45f}));
        b.add(lamp, make_box({0.5f, 0.3f, 0.12f}, lamp),
              Mat4::translation({x, y - side * 1.5f, h + 6.35f}));
      } else {
        const float y = side * (L.road_half_width + L.sidewalk_width - 0.8f);
        const float r = rng.uniform_f(1.2, 1.7);
        b.add(bark, trunk, Mat4::translation({x, y, h}));
        b.add(leaves, crown,
              Mat4::translation({x, y, h + 2.6f + r}) * Mat4::scale({r, r, 1.2f * r}) *
                  Mat4::rotation({0, 0, 1}, rng.uniform_f(0, 2 * kPi)));
      }
    }
  }
}

}  // namespace

int add_texture(Scene& scene, TextureKind kind, Rgb a, Rgb b, Rgb c, int repeat_u, int repeat_v,
                StreetRng& rng) {
  ProceduralTexture t;
  t.kind = kind;
  t.color_a = a;
  t.color_b = b;
  t.color_c = c;
  t.repeat_u = repeat_u;
  t.repeat_v = repeat_v;
  t.seed = rng.next();
  scene.textures.push_back(t);
  return static_cast<int>(scene.textures.size()) - 1;
}

void append_mesh(Mesh& dst, const Mesh& src, const Mat4& transform) {
  const uint32_t offset = static_cast<uint32_t>(dst.vertices.size());
  for (const MeshVertex& v : src.vertices)
    dst.vertices.push_back(
        {transform.transform_point(v.position), transform.transform_normal(v.normal), v.u, v.v});
  for (uint32_t i : src.indices) dst.indices.push_back(offset + i);
}

Mat4 rigid_inverse(const Mat4& m) {
  Mat4 r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r.m[i * 4 + j] = m.m[j * 4 + i];
  for (int i = 0; i < 3; ++i)
    r.m[i * 4 + 3] =
        -(r.m[i * 4 + 0] * m.m[3] + r.m[i * 4 + 1] * m.m[7] + r.m[i * 4 + 2] * m.m[11]);
  return r;
}

void add_street_environment(double x_min, double x_max, StreetRng& rng, StreetWorld& world) {
  StaticBatches batches;
  const GroundTextures ground = make_ground_textures(world.scene, rng);
  add_road(x_min, x_max, world.layout, ground, batches);
  add_sidewalks_and_verges(x_min, x_max, world.layout, ground, batches);
  add_buildings(x_min, x_max, world.layout, world.scene, batches, rng);
  add_lamps_and_trees(x_min, x_max, world.layout, world.scene, batches, rng);
  batches.emit(world, {ground.asphalt, ground.white_paint, ground.yellow_paint, ground.slabs,
                       ground.curb, ground.grass});
}

StreetWorld build_street_world(const StreetGeneratorOptions& o) {
  StreetWorld world;
  world.layout = street_layout(o);
  // Independent streams: the number of vehicles does not move the buildings, and so on.
  StreetRng mixer(o.seed ^ 0x5eed5eed12345678ull);
  StreetRng env_rng(mixer.next()), vehicle_rng(mixer.next()), people_rng(mixer.next()),
      ego_rng(mixer.next());
  world.ego_to_road = ego_path(ego_rng);
  // The road reaches well behind the start and ~120 m beyond the last ego position, so the
  // cameras see a street to the end of the sequence.
  const double travel = ego_speed() * (o.frames - 1) / kStreetFrameHz;
  add_street_environment(-60, travel + 120, env_rng, world);
  add_street_vehicles(o.vehicles, vehicle_rng, world);
  add_street_people(o.people, people_rng, world);
  return world;
}

std::vector<MeshInstance> street_instances(const StreetWorld& world, double seconds,
                                           std::vector<Mesh>& storage) {
  std::vector<MeshInstance> out = scene_instances(world.scene, seconds, storage);
  for (size_t k = 0; k < out.size(); ++k) out[k].label = world.object_labels[k];
  return out;
}

}  // namespace gs::synth
