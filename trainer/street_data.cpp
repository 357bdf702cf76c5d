// Street scenes prepared for training (see street_data.h).
#include "trainer/street_data.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/errors.h"
#include "core/logging.h"
#include "trainer/street_losses.h"

namespace gs {

namespace {

// At most this many initial points per vehicle (drivestudio's cap).
constexpr size_t kMaxPointsPerInstance = 5000;
// Vehicles without LiDAR returns start from this many random points in their box.
constexpr size_t kRandomPointsPerInstance = 2000;

// p in the box frame of a row-major box→world pose (rigid): Rᵀ (p − t).
std::array<float, 3> to_box(const std::array<float, 16>& m, const float* p) {
  const float d[3] = {p[0] - m[3], p[1] - m[7], p[2] - m[11]};
  return {m[0] * d[0] + m[4] * d[1] + m[8] * d[2], m[1] * d[0] + m[5] * d[1] + m[9] * d[2],
          m[2] * d[0] + m[6] * d[1] + m[10] * d[2]};
}

bool inside(const std::array<float, 3>& q, const std::array<float, 3>& size, float margin) {
  for (int i = 0; i < 3; ++i)
    if (std::abs(q[i]) > 0.5f * size[i] + margin) return false;
  return true;
}

// World point p in camera c: its depth (camera z), and its pixel position (u, w) where z > 0.
float to_pixel(const Camera& c, const float* p, float& u, float& w) {
  const float* m = c.world_to_camera;
  const float x = m[0] * p[0] + m[1] * p[1] + m[2] * p[2] + m[3];
  const float y = m[4] * p[0] + m[5] * p[1] + m[6] * p[2] + m[7];
  const float z = m[8] * p[0] + m[9] * p[1] + m[10] * p[2] + m[11];
  if (z > 0.f) {
    u = c.fx * x / z + c.cx;
    w = c.fy * y / z + c.cy;
  }
  return z;
}

// The colour of world point p in the first image of `frame` that sees it (false: none does).
bool colour_of(const std::vector<View>& views, const std::vector<HostImage>& images,
               const std::vector<int>& view_frame, int frame, const float* p, float rgb[3]) {
  for (size_t v = 0; v < views.size(); ++v) {
    if (view_frame[v] != frame || v >= images.size()) continue;
    const Camera& c = views[v].camera;
    float fu = 0, fw = 0;
    if (to_pixel(c, p, fu, fw) < 0.2f) continue;
    const int u = int(std::floor(fu)), w = int(std::floor(fw));
    if (u < 0 || w < 0 || u >= c.width || w >= c.height) continue;
    const uint8_t* px = &images[v].rgb[(size_t(w) * c.width + u) * 3];
    for (int k = 0; k < 3; ++k) rgb[k] = float(px[k]) / 255.0f;
    return true;
  }
  return false;
}

// Whether any training view sees world point p (in front of it, inside its image).
bool seen_by_a_view(const std::vector<View>& views, const float* p) {
  for (const View& v : views) {
    const Camera& c = v.camera;
    float u = 0, w = 0;
    if (!(to_pixel(c, p, u, w) > 0.f)) continue;
    if (u >= 0 && w >= 0 && u < float(c.width) && w < float(c.height)) return true;
  }
  return false;
}

// drivestudio's random background points (models/trainers/scene_graph.py): 3 × `count` points
// in the sphere of radius R around `centre`, uniform in volume (near) or with the inverse of
// the distance uniform, the distance clamped to 50 R (far); the ones a training view sees are
// appended with random colours. Returns how many were kept.
size_t add_random_points(int64_t count, bool far, const std::array<float, 3>& centre, float R,
                         const std::vector<View>& views, std::mt19937_64& rng,
                         std::vector<float>& points, std::vector<float>& colours) {
  std::uniform_real_distribution<float> u01(0.f, 1.f);
  size_t kept = 0;
  for (int64_t i = 0; i < 3 * count; ++i) {
    const float r = far ? 1.f / std::max(u01(rng), 0.02f) : std::cbrt(u01(rng));
    const float cos_theta = 2.f * u01(rng) - 1.f;
    const float sin_theta = std::sqrt(std::max(0.f, 1.f - cos_theta * cos_theta));
    const float phi = 2.f * float(M_PI) * u01(rng);
    const float p[3] = {centre[0] + R * r * sin_theta * std::cos(phi),
                        centre[1] + R * r * sin_theta * std::sin(phi),
                        centre[2] + R * r * cos_theta};
    const float rgb[3] = {u01(rng), u01(rng), u01(rng)};
    if (!seen_by_a_view(views, p)) continue;
    points.insert(points.end(), p, p + 3);
    colours.insert(colours.end(), rgb, rgb + 3);
    ++kept;
  }
  return kept;
}

}  // namespace

StreetTraining load_street_training(const std::string& path, const Config& cfg, Dataset& data) {
  StreetOptions o;
  o.start_frame = cfg.data.start_frame;
  o.end_frame = cfg.data.end_frame;
  o.cameras.clear();
  for (int c = 0; c < std::min(cfg.data.cameras, 5); ++c) o.cameras.push_back(c);
  o.downscale = cfg.data.downscale;
  o.test_every = cfg.data.test_every;
  StreetTraining st;
  st.scene = load_street_scene(path, o);
  StreetScene& s = st.scene;

  data = Dataset();
  data.root = path;
  data.format = "street";
  data.has_time = true;
  for (StreetView& v : s.train) {
    data.train.push_back(v.view);
    st.train_frame.push_back(v.frame);
  }
  for (StreetView& v : s.test) {
    data.test.push_back(v.view);
    st.test_frame.push_back(v.frame);
  }
  data.train_images = std::move(s.train_images);
  data.test_images = std::move(s.test_images);
  st.is_train_frame.assign(size_t(s.frames), 0);
  for (int f : st.train_frame) st.is_train_frame[size_t(f)] = 1;
  data.scene_extent = s.scene_radius;
  for (int i = 0; i < 3; ++i) data.scene_center[i] = 0.5f * (s.aabb_min[i] + s.aabb_max[i]);

  // Instances → nodes, by class and by the nodes the config has.
  auto has = [&](NodeKind k) {
    for (const NodeConfig& n : cfg.nodes)
      if (n.kind == k) return true;
    return false;
  };
  const bool rigid_node = has(NodeKind::rigid), deformable_node = has(NodeKind::deformable),
             skeleton_node = has(NodeKind::skeleton);
  std::vector<int> track_of(s.instances.size(), -1);
  for (size_t t = 0; t < s.human_poses.size(); ++t) track_of[size_t(s.human_poses[t].instance)] = int(t);
  std::vector<BoxNodeData*> owner(s.instances.size(), nullptr);  // null: background or skeleton
  std::vector<uint8_t> skinned(s.instances.size(), 0);
  size_t left = 0;
  for (size_t k = 0; k < s.instances.size(); ++k) {
    const InstanceClass c = s.instances[k].cls;
    if (c == InstanceClass::vehicle && rigid_node) {
      owner[k] = &st.rigid;
    } else if (c == InstanceClass::pedestrian && skeleton_node && track_of[k] >= 0) {
      skinned[k] = 1;
      st.human_instances.push_back(int(k));
      st.human_tracks.push_back(track_of[k]);
    } else if (c != InstanceClass::vehicle && deformable_node) {
      owner[k] = &st.deformable;
    } else {
      ++left;
    }
    if (owner[k]) owner[k]->instances.push_back(int(k));
  }
  if (left > 0)
    log_info("street: ", left, " instance(s) have no node of their kind in the config and are "
             "left to the background");

  // LiDAR → background points (outside every modelled box of their frame) and box-node points
  // (in the box frame of the instance they hit), coloured from the training images of the frame.
  std::vector<std::vector<float>> inst_pts(s.instances.size()), inst_col(s.instances.size());
  size_t uncoloured = 0;
  for (int f = 0; f < s.frames; ++f) {
    if (size_t(f) >= s.lidar.size()) break;
    const std::vector<float>& pts = s.lidar[size_t(f)].points;
    for (size_t i = 0; i + 2 < pts.size(); i += 3) {
      float rgb[3];
      if (!colour_of(data.train, data.train_images, st.train_frame, f, &pts[i], rgb)) {
        ++uncoloured;
        continue;
      }
      int hit = -1;
      std::array<float, 3> local{};
      for (size_t k = 0; k < s.instances.size() && hit < 0; ++k) {
        const StreetInstance& inst = s.instances[k];
        if ((!owner[k] && !skinned[k]) || !inst.present[size_t(f)]) continue;
        local = to_box(inst.box_to_world[size_t(f)], &pts[i]);
        if (inside(local, inst.box_size, 0.1f)) hit = int(k);
      }
      if (hit >= 0) {
        // Humans start from their body template: their returns are dropped.
        if (skinned[size_t(hit)]) continue;
        inst_pts[size_t(hit)].insert(inst_pts[size_t(hit)].end(), local.begin(), local.end());
        inst_col[size_t(hit)].insert(inst_col[size_t(hit)].end(), rgb, rgb + 3);
      } else {
        data.init_points.insert(data.init_points.end(), &pts[i], &pts[i] + 3);
        data.init_colors.insert(data.init_colors.end(), rgb, rgb + 3);
      }
    }
  }
  data.init_source = "LiDAR (" + std::to_string(data.init_points.size() / 3) + " points seen by a "
                     "camera; " + std::to_string(uncoloured) + " unseen dropped)";

  std::mt19937_64 rng(uint64_t(cfg.train.seed) * 2654435761ull + 17);
  for (const NodeConfig& n : cfg.nodes) {
    if (n.kind != NodeKind::background || n.near_random_points + n.far_random_points == 0)
      continue;
    const std::array<float, 3> centre = {data.scene_center[0], data.scene_center[1],
                                         data.scene_center[2]};
    const size_t near = add_random_points(n.near_random_points, false, centre, s.scene_radius,
                                          data.train, rng, data.init_points, data.init_colors);
    const size_t far = add_random_points(n.far_random_points, true, centre, s.scene_radius,
                                         data.train, rng, data.init_points, data.init_colors);
    data.init_source += " + " + std::to_string(near) + " near and " + std::to_string(far) +
                        " far random points";
  }

  for (BoxNodeData* node : {&st.rigid, &st.deformable})
    for (size_t r = 0; r < node->instances.size(); ++r) {
      const size_t k = size_t(node->instances[r]);
      const StreetInstance& inst = s.instances[k];
      std::vector<float>& p = inst_pts[k];
      std::vector<float>& c = inst_col[k];
      size_t n = p.size() / 3;
      if (n == 0) {
        // No LiDAR on this object: random points in its box, grey.
        std::uniform_real_distribution<float> u(-0.5f, 0.5f);
        for (size_t i = 0; i < kRandomPointsPerInstance; ++i) {
          for (int a = 0; a < 3; ++a) p.push_back(u(rng) * inst.box_size[size_t(a)]);
          c.insert(c.end(), {0.5f, 0.5f, 0.5f});
        }
        n = kRandomPointsPerInstance;
      }
      // At most kMaxPointsPerInstance, evenly spread over the list (frames in order).
      const size_t keep = std::min(n, kMaxPointsPerInstance);
      for (size_t j = 0; j < keep; ++j) {
        const size_t i = j * n / keep;
        node->points.insert(node->points.end(), &p[3 * i], &p[3 * i] + 3);
        node->colors.insert(node->colors.end(), &c[3 * i], &c[3 * i] + 3);
        node->point_instance.push_back(int32_t(r));
      }
    }
  log_info("street: ", s.frames, " frames x ", s.cameras.size(), " cameras, ",
           st.rigid.instances.size(), " vehicles (", st.rigid.points.size() / 3,
           " initial rigid points), ", st.deformable.instances.size(),
           " deformable instances (", st.deformable.points.size() / 3, " points), ",
           st.human_instances.size(), " skinned humans; scene radius ", s.scene_radius, " m");
  return st;
}

std::vector<float> colours_in_frame(const StreetTraining& st, const Dataset& data, int frame,
                                    const std::vector<float>& points) {
  std::vector<float> out;
  out.reserve(points.size());
  for (size_t i = 0; i + 2 < points.size(); i += 3) {
    float rgb[3] = {0.5f, 0.5f, 0.5f};
    colour_of(data.train, data.train_images, st.train_frame, frame, &points[i], rgb);
    out.insert(out.end(), rgb, rgb + 3);
  }
  return out;
}

bool LidarDepthCache::dense(const StreetTraining& st, size_t view, int frame, int factor,
                            const Camera& camera, std::vector<float>& out) {
  if (frame < 0 || size_t(frame) >= st.scene.lidar.size()) return false;
  const size_t pixels = size_t(camera.width) * size_t(camera.height);
  GS_CHECK(pixels <= size_t(UINT32_MAX), "LiDAR depth cache: image of " +
                                             std::to_string(pixels) + " pixels is too large");
  auto it = views_.find({view, factor});
  if (it == views_.end()) {
    const std::vector<float>& p = st.scene.lidar[size_t(frame)].points;
    const std::vector<float> image = lidar_depth_image(camera, p.data(), p.size() / 3);
    Sparse s;
    s.frame = frame;
    s.camera = camera;
    for (size_t i = 0; i < image.size(); ++i)
      if (image[i] != 0.f) {
        s.index.push_back(uint32_t(i));
        s.depth.push_back(image[i]);
      }
    it = views_.emplace(std::make_pair(view, factor), std::move(s)).first;
  }
  const Sparse& s = it->second;
  const Camera& c = s.camera;
  GS_CHECK(s.frame == frame && c.width == camera.width && c.height == camera.height &&
               c.fx == camera.fx && c.fy == camera.fy && c.cx == camera.cx && c.cy == camera.cy &&
               std::equal(c.world_to_camera, c.world_to_camera + 16, camera.world_to_camera),
           "LiDAR depth cache: view " + std::to_string(view) + " at factor " +
               std::to_string(factor) + " asked for another frame or camera than it cached");
  out.assign(pixels, 0.f);
  for (size_t k = 0; k < s.index.size(); ++k) out[s.index[k]] = s.depth[k];
  return true;
}

size_t LidarDepthCache::host_bytes() const {
  size_t bytes = 0;
  for (const auto& [key, s] : views_) {
    (void)key;
    bytes += s.index.capacity() * sizeof(uint32_t) + s.depth.capacity() * sizeof(float);
  }
  return bytes;
}

}  // namespace gs
