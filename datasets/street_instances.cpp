// instances/instances_info.json and instances/frame_instances.json: the annotated objects of a
// street scene, their box poses per frame, and the per-frame list of who is present. Errors name
// the file and the JSON path ("instances_info.json: "3".frame_annotations.box_size[1]: …").
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/errors.h"
#include "datasets/json_fields.h"
#include "datasets/street_files.h"

namespace gs {
using nlohmann::json;

const char* to_string(InstanceClass c) {
  switch (c) {
    case InstanceClass::vehicle: return "Vehicle";
    case InstanceClass::pedestrian: return "Pedestrian";
    case InstanceClass::cyclist: return "Cyclist";
  }
  return "?";
}

namespace {

constexpr const char* kSchemaHint = "see docs/street_format.md for the instance files' schema";

std::string quoted(const std::string& key) {
  return "\"" + key + "\"";
}
std::string indexed(const std::string& field, size_t i) {
  return field + "[" + std::to_string(i) + "]";
}

// A JSON integer ≥ 0 (also a float with an integral value, as some writers emit 3.0).
bool as_index(const json& v, long long* out) {
  if (!v.is_number()) return false;
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < 0 || d != std::floor(d) || d > 1e9) return false;
  *out = static_cast<long long>(d);
  return true;
}

// The key of an instance or a frame: a non-negative integer written as a string.
long long key_index(const std::string& key, const std::string& file, const char* what) {
  long long v = -1;
  const bool digits =
      !key.empty() && key.size() < 10 &&
      std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) v = std::stoll(key);
  if (v < 0)
    throw_field_error(file, quoted(key),
                      std::string("the key must be ") + what + " (a non-negative integer)",
                      kSchemaHint);
  return v;
}

const json& member_array(const json& object, const char* key, const std::string& file,
                         const std::string& parent) {
  const auto it = object.find(key);
  if (it == object.end()) throw_field_error(file, parent + "." + key, "missing", kSchemaHint);
  if (!it->is_array())
    throw_field_error(file, parent + "." + key, "expected an array, got " + it->dump(),
                      kSchemaHint);
  return *it;
}

InstanceClass parse_class(const json& entry, const std::string& file, const std::string& parent) {
  const std::string name = json_string(entry, "class_name", file, parent);
  if (name == "Vehicle") return InstanceClass::vehicle;
  if (name == "Pedestrian") return InstanceClass::pedestrian;
  if (name == "Cyclist") return InstanceClass::cyclist;
  throw_field_error(file, parent + ".class_name",
                    "unknown class '" + name + "' (accepted: Vehicle, Pedestrian and Cyclist)",
                    "drivestudio's Waymo export writes only these three; map other classes to "
                    "one of them or leave those objects out");
}

// obj_to_world[i]: 4 rows of 4 numbers, or 16 numbers (drivestudio reshapes either), rigid.
Matrix4d parse_pose(const json& m, const std::string& file, const std::string& field) {
  Matrix4d out{};
  bool ok = m.is_array() && (m.size() == 4 || m.size() == 16);
  if (ok && m.size() == 16) {
    for (size_t i = 0; ok && i < 16; ++i) {
      ok = m[i].is_number();
      if (ok) out[i] = m[i].get<double>();
    }
  } else {
    for (size_t r = 0; ok && r < 4; ++r) {
      ok = m[r].is_array() && m[r].size() == 4;
      for (size_t c = 0; ok && c < 4; ++c) {
        ok = m[r][c].is_number();
        if (ok) out[r * 4 + c] = m[r][c].get<double>();
      }
    }
  }
  if (!ok)
    throw_field_error(file, field, "expected a 4×4 array",
                      "write the box→world pose as 4 rows of 4 numbers");
  const std::string problem = rigid_problem(out);
  if (!problem.empty())
    throw_field_error(file, field, "not a rigid transform: " + problem,
                      "box poses are rotation + translation; the size goes in box_size");
  return out;
}

std::array<float, 3> parse_size(const json& s, const std::string& file, const std::string& field) {
  std::array<float, 3> out{};
  bool ok = s.is_array() && s.size() == 3;
  for (size_t k = 0; ok && k < 3; ++k) {
    ok = s[k].is_number() && std::isfinite(s[k].get<double>()) && s[k].get<double>() > 0;
    if (ok) out[k] = s[k].get<float>();
  }
  if (!ok)
    throw_field_error(file, field,
                      "expected 3 positive numbers (length, width, height), got " + s.dump(),
                      "box sizes are in metres");
  return out;
}

struct Annotation {
  int frame;
  Matrix4d box_to_log;  // to the log's world, before the scene is re-centred
  std::array<float, 3> size;
};

struct ParsedInstance {
  int id;
  InstanceClass cls;
  std::vector<Annotation> annotations;
};

ParsedInstance parse_instance(const std::string& key, const json& entry, const std::string& file,
                              int total_frames) {
  const std::string parent = quoted(key);
  if (!entry.is_object())
    throw_field_error(file, parent, "expected an object with class_name and frame_annotations",
                      kSchemaHint);
  ParsedInstance inst;
  inst.id = static_cast<int>(key_index(key, file, "an instance id"));
  inst.cls = parse_class(entry, file, parent);
  const std::string fa = parent + ".frame_annotations";
  const auto it = entry.find("frame_annotations");
  if (it == entry.end() || !it->is_object())
    throw_field_error(file, fa, it == entry.end() ? "missing" : "expected an object", kSchemaHint);
  const json& frame_idx = member_array(*it, "frame_idx", file, fa);
  const json& poses = member_array(*it, "obj_to_world", file, fa);
  const json& sizes = member_array(*it, "box_size", file, fa);
  if (poses.size() != frame_idx.size() || sizes.size() != frame_idx.size())
    throw_field_error(file, fa,
                      "frame_idx, obj_to_world and box_size have " +
                          std::to_string(frame_idx.size()) + ", " + std::to_string(poses.size()) +
                          " and " + std::to_string(sizes.size()) + " entries",
                      "give one pose and one size per entry of frame_idx");
  std::set<long long> seen;
  for (size_t i = 0; i < frame_idx.size(); ++i) {
    const std::string field = indexed(fa + ".frame_idx", i);
    long long f = -1;
    if (!as_index(frame_idx[i], &f))
      throw_field_error(file, field, "expected a frame index, got " + frame_idx[i].dump(),
                        kSchemaHint);
    if (f >= total_frames)
      throw_field_error(file, field,
                        "frame " + std::to_string(f) + " is outside the scene, which has " +
                            std::to_string(total_frames) + " frames: 0.." +
                            std::to_string(total_frames - 1),
                        "frames are counted by the files in ego_pose/");
    if (!seen.insert(f).second)
      throw_field_error(file, field, "frame " + std::to_string(f) + " is annotated twice",
                        "one annotation per frame and instance");
    inst.annotations.push_back({static_cast<int>(f),
                                parse_pose(poses[i], file, indexed(fa + ".obj_to_world", i)),
                                parse_size(sizes[i], file, indexed(fa + ".box_size", i))});
  }
  return inst;
}

// frame_instances.json must list exactly the instances instances_info.json annotates in each
// frame: drivestudio takes presence from one file and poses from the other, so any
// disagreement would be a box without a pose, or a pose never used.
void check_frame_instances(const std::string& frames_path, const std::string& info_path,
                           const std::vector<ParsedInstance>& instances, int total_frames) {
  std::map<int, std::set<int>> annotated;  // frame → ids
  std::set<int> known;
  for (const ParsedInstance& inst : instances) {
    if (!known.insert(inst.id).second)
      throw_field_error(info_path, quoted(std::to_string(inst.id)),
                        "instance " + std::to_string(inst.id) + " appears under two keys",
                        "write each instance id once, without leading zeros");
    for (const Annotation& a : inst.annotations) annotated[a.frame].insert(inst.id);
  }
  const json j = read_json_file(frames_path);
  if (!j.is_object())
    throw_field_error(frames_path, "(top level)",
                      "expected an object {\"<frame>\": [instance ids], ...}", kSchemaHint);
  std::map<int, std::set<int>> listed;
  for (const auto& [key, ids] : j.items()) {
    const long long frame = key_index(key, frames_path, "a frame index");
    if (frame >= total_frames)
      throw_field_error(frames_path, quoted(key),
                        "frame " + key + " is outside the scene, which has " +
                            std::to_string(total_frames) + " frames: 0.." +
                            std::to_string(total_frames - 1),
                        "frames are counted by the files in ego_pose/");
    if (!ids.is_array())
      throw_field_error(frames_path, quoted(key),
                        "expected an array of instance ids, got " + ids.dump(), kSchemaHint);
    std::set<int>& here = listed[static_cast<int>(frame)];
    for (size_t i = 0; i < ids.size(); ++i) {
      const std::string field = indexed(quoted(key), i);
      long long id = -1;
      if (!as_index(ids[i], &id))
        throw_field_error(frames_path, field, "expected an instance id, got " + ids[i].dump(),
                          kSchemaHint);
      if (!known.count(static_cast<int>(id)))
        throw_field_error(frames_path, field,
                          "instance " + std::to_string(id) + " is not in " + info_path,
                          "the two instance files must come from the same export");
      if (!annotated[static_cast<int>(frame)].count(static_cast<int>(id)))
        throw_field_error(frames_path, field,
                          "instance " + std::to_string(id) + " is listed in frame " + key +
                              ", but " + info_path + " has no annotation of it in that frame",
                          "the two instance files must come from the same export");
      here.insert(static_cast<int>(id));
    }
  }
  for (const auto& [frame, ids] : annotated)
    for (int id : ids)
      if (!listed[frame].count(id))
        throw_field_error(frames_path, quoted(std::to_string(frame)),
                          "does not list instance " + std::to_string(id) + ", which " + info_path +
                              " annotates in frame " + std::to_string(frame),
                          "the two instance files must come from the same export");
}

}  // namespace

std::vector<StreetInstance> read_street_instances(const std::string& info_path,
                                                  const std::string& frames_path, int total_frames,
                                                  int start, int frames,
                                                  const Matrix4d& world_from_log) {
  const json info = read_json_file(info_path);
  if (!info.is_object())
    throw_field_error(info_path, "(top level)",
                      "expected an object {\"<instance id>\": {...}, ...}", kSchemaHint);
  std::vector<ParsedInstance> parsed;
  for (const auto& [key, entry] : info.items())
    parsed.push_back(parse_instance(key, entry, info_path, total_frames));
  check_frame_instances(frames_path, info_path, parsed, total_frames);

  std::vector<StreetInstance> out;
  for (const ParsedInstance& p : parsed) {
    StreetInstance inst;
    inst.id = p.id;
    inst.cls = p.cls;
    inst.present.assign(frames, 0);
    Matrix4d identity{};
    identity[0] = identity[5] = identity[10] = identity[15] = 1;
    inst.box_to_world.assign(frames, to_float(identity));
    bool any = false;
    for (const Annotation& a : p.annotations) {
      const int f = a.frame - start;
      if (f < 0 || f >= frames) continue;
      any = true;
      inst.present[f] = 1;
      inst.box_to_world[f] = to_float(multiply(world_from_log, a.box_to_log));
      for (int k = 0; k < 3; ++k) inst.box_size[k] = std::max(inst.box_size[k], a.size[k]);
    }
    if (any) out.push_back(std::move(inst));
  }
  std::sort(out.begin(), out.end(),
            [](const StreetInstance& a, const StreetInstance& b) { return a.id < b.id; });
  return out;
}

}  // namespace gs
