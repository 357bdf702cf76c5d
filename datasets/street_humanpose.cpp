// humanpose/poses.json: the SMPL-topology poses of a street scene's humans
// (docs/humanpose_format.md). Errors name the file and the JSON path
// ("poses.json: humans[1].frames[4].body_pose[7]: …").
#include <cmath>
#include <map>

#include "core/errors.h"
#include "core/quat_math.h"
#include "datasets/json_fields.h"
#include "datasets/street_files.h"

namespace gs {
using nlohmann::json;

namespace {

constexpr const char* kHint = "see docs/humanpose_format.md for the schema of humanpose/poses.json";

std::string at(const std::string& field, size_t i) { return field + "[" + std::to_string(i) + "]"; }

const json& member(const json& o, const char* key, const std::string& file,
                   const std::string& parent) {
  const auto it = o.find(key);
  if (it == o.end()) throw_field_error(file, parent + key, "missing", kHint);
  return *it;
}

// A (w, x, y, z) quaternion: 4 finite numbers, not all zero; normalised.
std::array<double, 4> quaternion(const json& v, const std::string& file, const std::string& field) {
  std::array<double, 4> q{};
  bool ok = v.is_array() && v.size() == 4;
  for (size_t k = 0; ok && k < 4; ++k) {
    ok = v[k].is_number() && std::isfinite(v[k].get<double>());
    if (ok) q[k] = v[k].get<double>();
  }
  if (!ok)
    throw_field_error(file, field, "expected a quaternion [w, x, y, z] of 4 finite numbers, got " +
                                       v.dump(), kHint);
  const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  if (!(n > 1e-8)) throw_field_error(file, field, "a zero quaternion has no rotation", kHint);
  for (double& c : q) c /= n;
  return q;
}

// Hamilton product a ⊗ b.
std::array<double, 4> hamilton(const std::array<double, 4>& a, const std::array<double, 4>& b) {
  const rmath::Vec4<double> p =
      rmath::hamilton(rmath::Vec4<double>{a[0], a[1], a[2], a[3]},
                      rmath::Vec4<double>{b[0], b[1], b[2], b[3]});
  return {p.w, p.x, p.y, p.z};
}

// The unit quaternion of a rigid matrix's rotation block.
std::array<double, 4> rotation_quaternion(const Matrix4d& m) {
  const double r[9] = {m[0], m[1], m[2], m[4], m[5], m[6], m[8], m[9], m[10]};
  std::array<double, 4> q;
  rmath::rotation_to_quat(r, q.data());
  return q;
}

}  // namespace

std::vector<HumanPoseTrack> read_human_poses(const std::string& file,
                                             const std::vector<StreetInstance>& instances,
                                             int total_frames, int start, int frames,
                                             const Matrix4d& world_from_log) {
  const json doc = read_json_file(file);
  if (!doc.is_object()) throw_field_error(file, "(top level)", "expected an object", kHint);
  const json& format = member(doc, "format", file, "");
  if (!format.is_string() || format.get<std::string>() != "gstrain-humanpose")
    throw_field_error(file, "format", "expected \"gstrain-humanpose\", got " + format.dump(),
                      "convert drivestudio's humanpose/smpl.pkl with "
                      "scripts/convert_drivestudio_humanpose.py");
  const json& joints = member(doc, "joint_count", file, "");
  if (!joints.is_number_integer() || joints.get<long long>() != kHumanPoseJoints)
    throw_field_error(file, "joint_count",
                      "expected 24 (SMPL's skeleton), got " + joints.dump(),
                      "skinned humans use SMPL's 24-joint tree; convert other skeletons to it");
  if (const auto r = doc.find("rotation");
      r != doc.end() && (!r->is_string() || r->get<std::string>() != "quaternion_wxyz"))
    throw_field_error(file, "rotation", "expected \"quaternion_wxyz\", got " + r->dump(), kHint);
  const json& humans = member(doc, "humans", file, "");
  if (!humans.is_array()) throw_field_error(file, "humans", "expected an array", kHint);

  std::map<int, size_t> by_id;
  for (size_t k = 0; k < instances.size(); ++k) by_id[instances[k].id] = k;
  const std::array<double, 4> world_rotation = rotation_quaternion(world_from_log);
  std::vector<HumanPoseTrack> tracks;
  for (size_t h = 0; h < humans.size(); ++h) {
    const std::string parent = at("humans", h);
    const json& entry = humans[h];
    if (!entry.is_object()) throw_field_error(file, parent, "expected an object", kHint);
    const json& id = member(entry, "instance_id", file, parent + ".");
    if (!id.is_number_integer())
      throw_field_error(file, parent + ".instance_id", "expected an integer, got " + id.dump(),
                        kHint);
    const auto found = by_id.find(int(id.get<long long>()));
    if (found == by_id.end()) {
      throw_field_error(file, parent + ".instance_id",
                        "instance " + id.dump() + " is not annotated in instances/"
                        "instances_info.json within the selected frames",
                        "each human needs a box track (its class Pedestrian or Cyclist); fix the "
                        "id or select frames where it is annotated");
    }
    const StreetInstance& inst = instances[found->second];
    if (inst.cls == InstanceClass::vehicle)
      throw_field_error(file, parent + ".instance_id",
                        "instance " + id.dump() + " is a Vehicle, not a human",
                        "poses are for Pedestrian or Cyclist instances");
    HumanPoseTrack track;
    track.instance = int(found->second);
    track.present.assign(size_t(frames), 0);
    track.poses.resize(size_t(frames));
    const json& list = member(entry, "frames", file, parent + ".");
    if (!list.is_array()) throw_field_error(file, parent + ".frames", "expected an array", kHint);
    for (size_t f = 0; f < list.size(); ++f) {
      const std::string fp = parent + "." + at("frames", f);
      const json& fr = list[f];
      if (!fr.is_object()) throw_field_error(file, fp, "expected an object", kHint);
      const json& idx = member(fr, "frame_idx", file, fp + ".");
      if (!idx.is_number_integer() || idx.get<long long>() < 0 ||
          idx.get<long long>() >= total_frames)
        throw_field_error(file, fp + ".frame_idx",
                          "expected a frame of the scene (0 … " + std::to_string(total_frames - 1) +
                              "), got " + idx.dump(),
                          kHint);
      const int local = int(idx.get<long long>()) - start;
      const std::array<double, 4> orient =
          quaternion(member(fr, "global_orient", file, fp + "."), file, fp + ".global_orient");
      const json& body = member(fr, "body_pose", file, fp + ".");
      if (!body.is_array() || body.size() != kHumanPoseJoints - 1)
        throw_field_error(file, fp + ".body_pose",
                          "expected 23 joint quaternions (SMPL joints 1 … 23), got " +
                              std::to_string(body.is_array() ? body.size() : 0) + " entries",
                          kHint);
      std::array<double, kHumanPoseFloats> pose{};
      const std::array<double, 4> root = hamilton(world_rotation, orient);
      for (int c = 0; c < 4; ++c) pose[size_t(c)] = root[size_t(c)];
      for (size_t j = 0; j + 1 < kHumanPoseJoints; ++j) {
        const std::array<double, 4> q = quaternion(body[j], file, fp + "." + at("body_pose", j));
        for (size_t c = 0; c < 4; ++c) pose[4 * (j + 1) + c] = q[c];
      }
      const json& t = member(fr, "transl", file, fp + ".");
      bool ok = t.is_array() && t.size() == 3;
      for (size_t a = 0; ok && a < 3; ++a) {
        ok = t[a].is_number() && std::isfinite(t[a].get<double>());
        if (ok) pose[size_t(kHumanPoseJoints * 4) + a] = t[a].get<double>();
      }
      if (!ok)
        throw_field_error(file, fp + ".transl", "expected 3 finite numbers, got " + t.dump(),
                          kHint);
      if (local < 0 || local >= frames) continue;  // outside the selected range
      track.present[size_t(local)] = 1;
      track.poses[size_t(local)] = pose;
    }
    tracks.push_back(std::move(track));
  }
  return tracks;
}

}  // namespace gs
